/** One entry of `git status --porcelain=v1 -z --untracked-files=all --no-renames`. */
export interface StatusEntry {
  /** The two status letters (`??` for untracked). */
  xy: string;
  path: string;
}

/** Parses `git status --porcelain=v1 -z --no-renames` output. */
export function parseStatus(z: string): StatusEntry[] {
  return z.split('\0').filter(Boolean).map((e) => ({ xy: e.slice(0, 2), path: e.slice(3) }));
}

/**
 * Uncommitted changes in a merger's working tree that no framelog merge can have made, when no
 * merge is in flight (no intent): an archive segment or folder of a frame after the journal's last record
 * (a merge's moves without its record), an archived file deleted, or an inbox file deleted
 * without landing in the archive or the quarantine. Only a git killed half-way through rewriting the tree (a checkout, a rebase's
 * replay) leaves them; committing them would archive deltas with no record or drop deltas.
 * Returns one line per stray change (empty: the tree is a state framelog made).
 */
export function strayChanges(entries: StatusEntry[], lastRecordFrame: number): string[] {
  const out: string[] = [];
  const added = entries.filter((e) => e.xy === '??' || e.xy.includes('A')).map((e) => e.path);
  for (const e of entries) {
    const archived = /^archive\/merge-(\d{9})(?:\/|\.ndjson$)/.exec(e.path);
    if (archived && e.xy.includes('D')) out.push(`${e.path}: an archived delta deleted (the archive only grows)`);
    else if (archived && Number(archived[1]) > lastRecordFrame) out.push(`${e.path}: archived by no recorded merge (the journal ends at frame ${lastRecordFrame})`);
    const inbox = /^inbox\/([^/]+)$/.exec(e.path);
    if (inbox && e.xy.includes('D')) {
      const name = inbox[1];
      // A segment holds many deltas under names status cannot show: a new one of a recorded merge counts.
      const landed = added.some((p) => (p.startsWith('archive/') && p.endsWith(`/${name}`))
        || (/^archive\/merge-\d{9}\.ndjson$/.test(p) && Number(p.slice(14, 23)) <= lastRecordFrame)
        || (p.startsWith('quarantine/') && p.slice('quarantine/'.length).startsWith(name.replace(/\.ndjson$/, ''))));
      if (!landed) out.push(`${e.path}: deleted, but not in the archive or the quarantine`);
    }
  }
  return out;
}
