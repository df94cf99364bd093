import { existsSync, readFileSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { MergeRecord } from '../merge/records.js';
import { fsyncDir, moveNoReplace, truncateDurable, writeFileDurable } from './durableFs.js';
import { readJournal } from './journalFile.js';
import { archiveDirName } from './layout.js';
import type { StoreContext } from './storeContext.js';

/**
 * What a merge is about to do, written durably before it moves any file. A merge's commit point
 * is its merge record; after a crash the intent says how to finish (record present) or undo
 * (record absent) what was half done, so the store holds the old state or the new one.
 */
export interface MergeIntent {
  frame: number;
  /** Renames inbox → archive or quarantine, relative to the store root. */
  moves: Array<{ from: string; to: string }>;
  /** `.why.json` files written beside quarantined deltas. */
  written: string[];
  /** Journal sizes before the merge: an undo cuts them back. */
  sizes: { merges: number; conflicts: number; events: number; plans: number };
}

const size = (p: string): number => (existsSync(p) ? statSync(p).size : 0);

/** The journal sizes now, for an intent. */
export function journalSizes(ctx: StoreContext): MergeIntent['sizes'] {
  const l = ctx.layout;
  return { merges: size(l.merges), conflicts: size(l.conflicts), events: size(l.events), plans: size(l.plans) };
}

/** Writes the intent durably. */
export function writeIntent(ctx: StoreContext, intent: MergeIntent): void {
  writeFileDurable(ctx.layout.intent, JSON.stringify(intent) + '\n');
}

/** Removes the intent once the merge is whole. */
export function clearIntent(ctx: StoreContext): void {
  try {
    unlinkSync(ctx.layout.intent);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** A free name in `dir` for `name` (`name~2.json`, …), for putting a file back without replacing one. */
function freeName(dir: string, name: string): string {
  if (!existsSync(join(dir, name))) return name;
  const dot = name.endsWith('.json') ? name.length - 5 : name.length;
  for (let i = 2; ; i++) {
    const n = `${name.slice(0, dot)}~${i}${name.slice(dot)}`;
    if (!existsSync(join(dir, n))) return n;
  }
}

/**
 * Brings a store whose merger died mid-merge back to a whole state: finishes a merge whose record
 * was committed, undoes one whose record was not. Also cuts a torn last line off the merge
 * journal. Needs the merger lock. Returns what it did, or undefined when there was nothing to do.
 */
export function recoverMerge(ctx: StoreContext): 'finished' | 'undone' | undefined {
  const l = ctx.layout;
  let intent: MergeIntent;
  try {
    intent = JSON.parse(readFileSync(l.intent, 'utf8')) as MergeIntent;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A torn intent was never acted on: its temp file is renamed into place only when whole.
    clearIntent(ctx);
    return undefined;
  }
  const root = l.root;
  // The record is committed when a complete line for this frame stands after the old size.
  const records = readJournal<MergeRecord>(l.merges, 'journal/merges.ndjson');
  const committed = records.some((r) => r.offset >= intent.sizes.merges && r.value.frame === intent.frame);
  const dirs = new Set<string>();
  if (committed) {
    for (const m of intent.moves) {
      if (existsSync(join(root, m.from)) && !existsSync(join(root, m.to))) renameSync(join(root, m.from), join(root, m.to));
      else if (existsSync(join(root, m.from)) && existsSync(join(root, m.to))) unlinkSync(join(root, m.from));
      dirs.add(dirname(join(root, m.from)));
    }
  } else {
    for (const m of intent.moves) {
      const to = join(root, m.to);
      if (!existsSync(to)) continue;
      const fromDir = dirname(join(root, m.from));
      moveNoReplace(to, join(fromDir, freeName(fromDir, basename(m.from))));
      dirs.add(fromDir).add(dirname(to));
    }
    for (const w of intent.written) {
      try { unlinkSync(join(root, w)); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
    }
    truncateDurable(l.merges, intent.sizes.merges);
    truncateDurable(l.conflicts, intent.sizes.conflicts);
    truncateDurable(l.events, intent.sizes.events);
    truncateDurable(l.plans, intent.sizes.plans);
    // The merge's own archive folder goes too (never quarantine/ or other shared folders).
    const own = join(root, archiveDirName(intent.frame));
    if (existsSync(own) && readdirSync(own).length === 0) rmdirSync(own);
  }
  for (const d of dirs) if (existsSync(d)) fsyncDir(d);
  clearIntent(ctx);
  return committed ? 'finished' : 'undone';
}
