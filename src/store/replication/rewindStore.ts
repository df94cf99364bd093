import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { MergeRecord } from '../../merge/records.js';
import { createFileDurable, fsyncDir, moveNoReplace, truncateDurable } from '../../durable/durableFs.js';
import { decodeSegment, segmentName } from '../history/archiveSegment.js';
import { journalIndexPath } from '../history/journalIndex.js';
import { readJournal } from '../history/journalFile.js';
import { archiveDirName } from '../layout.js';
import { freeName } from '../commit/mergeIntent.js';
import { settleLagMarker } from '../commit/lazyJournals.js';
import { listSnapshotFrames } from '../history/snapshots.js';
import { snapshotName } from '../layout.js';
import type { StoreContext } from '../storeContext.js';

/** Puts a file back into the inbox (dropped when the inbox already holds the same bytes under that name). */
function backToInbox(ctx: StoreContext, from: string, name: string): void {
  const inbox = ctx.layout.inbox;
  const there = join(inbox, name);
  if (existsSync(there) && Buffer.compare(readFileSync(there), readFileSync(from)) === 0) {
    unlinkSync(from);
    return;
  }
  moveNoReplace(from, join(inbox, freeName(inbox, name)));
}

/** Offset of the first line of a journal whose `key` is one of `frames` (the file's size when none). */
function cutOffset(path: string, label: string, key: 'merge' | 'from', frames: Set<number>): number | undefined {
  for (const line of readJournal<Record<string, unknown>>(path, label)) {
    const f = line.value[key];
    if (typeof f === 'number' && frames.has(f)) return line.offset;
  }
  return undefined;
}

/**
 * Takes back every merge after the first `keep` ones: their deltas and quarantined files go back
 * to the inbox (nothing is deleted but the journals' tails, snapshots and the index, which are
 * rebuilt), their journal lines are cut, and the merge records last. A merger that lost its lease
 * and merged on its own uses it to return to the history the new holder published. Every step can
 * be run again after a crash: the records, cut last, still name what is left to take back.
 * The caller holds the merger lock and has run recovery. Returns the frames taken back.
 */
export function rewindStore(ctx: StoreContext, keep: number): number[] {
  const l = ctx.layout;
  const records = readJournal<MergeRecord>(l.merges, 'journal/merges.ndjson');
  if (keep >= records.length) return [];
  settleLagMarker(ctx); // no recovery may append again the lines of merges cut here
  const removed = records.slice(keep).map((r) => r.value.frame);
  const frames = new Set(removed);
  const lastKept = keep > 0 ? records[keep - 1].value.frame : null;
  for (const f of [...removed].reverse()) {
    const seg = join(l.root, segmentName(f));
    if (existsSync(seg)) {
      // Each delta of the segment goes back as a file of its own (durable before the segment goes).
      for (const e of decodeSegment(readFileSync(seg), segmentName(f))) {
        const there = join(l.inbox, e.name);
        if (existsSync(there) && Buffer.compare(readFileSync(there), e.bytes) === 0) continue;
        createFileDurable(join(l.inbox, freeName(l.inbox, e.name)), e.bytes, { syncDir: false });
      }
      fsyncDir(l.inbox);
      unlinkSync(seg);
    }
    const dir = join(l.root, archiveDirName(f));
    if (!existsSync(dir)) continue;
    for (const n of readdirSync(dir)) backToInbox(ctx, join(dir, n), n);
    rmdirSync(dir);
  }
  if (existsSync(l.quarantine)) {
    for (const n of readdirSync(l.quarantine)) {
      if (!n.endsWith('.why.json')) continue;
      let why: { merge?: unknown; file?: unknown };
      try {
        why = JSON.parse(readFileSync(join(l.quarantine, n), 'utf8')) as typeof why;
      } catch {
        continue;
      }
      if (typeof why.merge !== 'number' || !frames.has(why.merge)) continue;
      const data = join(l.quarantine, n.slice(0, -'.why.json'.length));
      if (existsSync(data)) backToInbox(ctx, data, typeof why.file === 'string' && !why.file.includes('/') ? why.file : n.slice(0, -'.why.json'.length));
      unlinkSync(join(l.quarantine, n));
    }
    fsyncDir(l.quarantine);
  }
  fsyncDir(l.inbox);
  if (existsSync(l.archive)) fsyncDir(l.archive);
  for (const [path, label, key] of [[l.conflicts, 'journal/conflicts.ndjson', 'merge'], [l.events, 'journal/events.ndjson', 'merge'], [l.plans, 'journal/plans.ndjson', 'from']] as const) {
    const at = cutOffset(path, label, key, frames);
    if (at !== undefined) truncateDurable(path, at);
  }
  for (const f of listSnapshotFrames(l)) if (lastKept === null || f > lastKept) rmSync(join(l.root, snapshotName(f)), { force: true });
  rmSync(journalIndexPath(ctx), { force: true });
  truncateDurable(l.merges, records[keep].offset); // last: until here, the records say what to take back
  return removed;
}
