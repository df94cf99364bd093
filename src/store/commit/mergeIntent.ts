import { readTextIfExists } from '../../durable/index.js';
import { closeSync, constants, existsSync, fdatasyncSync, ftruncateSync, openSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { MergeRecord } from '../../merge/records.js';
import { fsyncDir, moveNoReplace, truncateDurable, writeAll } from '../../durable/durableFs.js';
import { readJournal } from '../history/journalFile.js';
import { archiveDirName } from '../layout.js';
import type { StoreContext } from '../storeContext.js';
import { intentReplaced, readLagMarker, redoLaggingJournals, syncAllJournals } from './lazyJournals.js';

/**
 * What a merge that moves files is about to do (it quarantines, or leaves batch lines to wait),
 * written durably before it moves any. Such a merge's commit point is its merge record; after a
 * crash the intent says how to finish (record present) or undo (record absent) what was half
 * done, so the store holds the old state or the new one. A merge that only archives commits with
 * its segment instead, and needs no intent (`lazyJournals.ts`).
 */
export interface MergeIntent {
  frame: number;
  /** Renames inbox → archive or quarantine, relative to the store root. */
  moves: Array<{ from: string; to: string }>;
  /**
   * Files the merge creates besides its segment, removed by an undo: `.why.json` notes, bad batch
   * lines copied into the quarantine, batch lines written out to wait alone in the inbox.
   */
  written: string[];
  /** The archive segment the merge writes (v1.1); an undo removes it. */
  segment?: string;
  /** Inbox files the merge takes whole, removed once the record is committed. */
  consumed?: string[];
  /** Journal sizes before the merge: an undo cuts them back. */
  sizes: { merges: number; conflicts: number; events: number; plans: number };
}

const size = (p: string): number => (existsSync(p) ? statSync(p).size : 0);

/** The journal sizes now, for an intent. */
export function journalSizes(ctx: StoreContext): MergeIntent['sizes'] {
  const l = ctx.layout;
  return { merges: size(l.merges), conflicts: size(l.conflicts), events: size(l.events), plans: size(l.plans) };
}

/** What the intent file holds between merges. */
const IDLE = '{}\n';

/**
 * Writes the intent durably, in place: one write and one `fdatasync` (the file itself lives on
 * between merges, so no folder sync is needed after the first). Only its first line counts: a
 * torn write has no complete line, and nothing was moved before the sync returned.
 */
export function writeIntent(ctx: StoreContext, intent: MergeIntent): void {
  // Journals that lag the archive are made durable first: this intent replaces their marker.
  if (readLagMarker(ctx)) syncAllJournals(ctx);
  intentReplaced(ctx);
  const created = !existsSync(ctx.layout.intent);
  const fd = openSync(ctx.layout.intent, constants.O_WRONLY | constants.O_CREAT, 0o644);
  try {
    const buf = Buffer.from(JSON.stringify(intent) + '\n');
    writeAll(fd, buf, 0);
    ftruncateSync(fd, buf.length);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (created) fsyncDir(ctx.layout.journal);
}

/** Marks the intent done once the merge is whole (not synced: redoing a finished intent is a no-op). */
export function clearIntent(ctx: StoreContext): void {
  intentReplaced(ctx);
  if (existsSync(ctx.layout.intent)) writeFileSync(ctx.layout.intent, IDLE);
}

/** The pending intent, or undefined when the merger is idle (or the intent was torn, so never acted on). */
export function readIntent(ctx: StoreContext): MergeIntent | undefined {
  const text = readTextIfExists(ctx.layout.intent);
  if (text === undefined) return undefined;
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  try {
    const v = JSON.parse(text.slice(0, nl)) as Partial<MergeIntent>;
    return typeof v.frame === 'number' && Array.isArray(v.moves) ? (v as MergeIntent) : undefined;
  } catch {
    return undefined;
  }
}

/** A free name in `dir` for `name` (`name~2.json`, …), for putting a file back without replacing one. */
export function freeName(dir: string, name: string): string {
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
 * journal; brings journals that lagged the archive up to date from its segments' commit lines
 * (see `lazyJournals.ts`). Needs the merger lock. Returns what it did, or undefined when there was nothing to do.
 */
export function recoverMerge(ctx: StoreContext): 'finished' | 'undone' | 'redone' | undefined {
  const l = ctx.layout;
  const marker = readLagMarker(ctx);
  if (marker) {
    redoLaggingJournals(ctx, marker);
    return 'redone';
  }
  const intent = readIntent(ctx);
  if (!intent) return undefined;
  const root = l.root;
  // The record is committed when a complete line for this frame stands after the old size.
  const records = readJournal<MergeRecord>(l.merges, 'journal/merges.ndjson');
  const committed = records.some((r) => r.offset >= intent.sizes.merges && r.value.frame === intent.frame);
  const dirs = new Set<string>();
  if (committed) {
    for (const c of intent.consumed ?? []) {
      try { unlinkSync(join(root, c)); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
    }
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
    for (const w of [...intent.written, ...(intent.segment ? [intent.segment] : [])]) {
      try { unlinkSync(join(root, w)); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
      dirs.add(dirname(join(root, w)));
    }
    if (intent.segment) dirs.add(l.archive);
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
