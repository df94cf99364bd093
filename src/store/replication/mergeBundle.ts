import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { FramelogError } from '../../errors.js';
import type { MergeRecord } from '../../merge/records.js';
import { readJournal } from '../history/journalFile.js';
import { journalSizes } from '../commit/mergeIntent.js';
import { archiveDirName } from '../layout.js';
import { segmentName } from '../history/archiveSegment.js';
import type { StoreContext } from '../storeContext.js';

/** A file a merge wrote, relative to the store root. */
export interface BundleFile {
  path: string;
  bytes: Uint8Array;
}

/**
 * Everything one merge added to a store, byte for byte: its record line, the lines it appended to
 * the plan, conflict and event journals, and the files of its archive folder and of the quarantine.
 * Another host applies it with `importMergeBundle` and holds exactly the same bytes (snapshots
 * and the journal index are caches, rebuilt there).
 */
export interface MergeBundle {
  /** 1-based position in the store's history (the record's line number). */
  index: number;
  frame: number;
  /** The merge record's line, without its newline. */
  record: string;
  /** Text appended to `journal/plans.ndjson`, `conflicts.ndjson`, `events.ndjson` (whole lines). */
  plans: string;
  conflicts: string;
  events: string;
  files: BundleFile[];
}

/** Quarantined files (and their `.why.json`) that name merge `frame`. */
function quarantineFilesOf(ctx: StoreContext, frame: number): BundleFile[] {
  const q = ctx.layout.quarantine;
  if (!existsSync(q)) return [];
  const out: BundleFile[] = [];
  for (const n of readdirSync(q)) {
    if (!n.endsWith('.why.json')) continue;
    const whyBytes = readFileSync(join(q, n));
    let why: { merge?: unknown };
    try {
      why = JSON.parse(whyBytes.toString('utf8')) as { merge?: unknown };
    } catch {
      continue; // verify names it; a bundle carries only what belongs to a merge
    }
    if (why.merge !== frame) continue;
    const file = n.slice(0, -'.why.json'.length);
    out.push({ path: `quarantine/${n}`, bytes: whyBytes });
    if (existsSync(join(q, file))) out.push({ path: `quarantine/${file}`, bytes: readFileSync(join(q, file)) });
  }
  return out;
}

function archiveFilesOf(ctx: StoreContext, frame: number): BundleFile[] {
  const seg = segmentName(frame);
  if (existsSync(join(ctx.layout.root, seg))) return [{ path: seg, bytes: readFileSync(join(ctx.layout.root, seg)) }];
  const rel = archiveDirName(frame);
  const dir = join(ctx.layout.root, rel);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => !n.startsWith('.')).sort().map((n) => ({ path: `${rel}/${n}`, bytes: readFileSync(join(dir, n)) }));
}

/** Bytes [from, to) of a file as text: only that range is read. */
function slice(path: string, from: number, to: number): string {
  if (to <= from) return '';
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(to - from);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, from + got);
      if (n === 0) throw new FramelogError(`${path}: ended at byte ${from + got} while reading a merge's lines`, 'corrupt-journal');
      got += n;
    }
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Follows a live merger: `take(record)`, called from `onCommit`, returns the bundle of the merge
 * just committed, reading only what it appended since the previous one (cost independent of the
 * history's length). Open it after recovery, before the first merge.
 */
export function createBundleTap(ctx: StoreContext): { take(record: MergeRecord): MergeBundle } {
  let sizes = journalSizes(ctx);
  let index = readJournal<MergeRecord>(ctx.layout.merges, 'journal/merges.ndjson').length;
  return {
    take(record) {
      const now = journalSizes(ctx);
      const l = ctx.layout;
      const recordText = slice(l.merges, sizes.merges, now.merges).replace(/\n$/, '');
      if (recordText.includes('\n')) throw new FramelogError(`journal/merges.ndjson: more than one record appended since merge ${index} (a second merger?)`, 'bad-bundle');
      index++;
      const b: MergeBundle = {
        index, frame: record.frame, record: recordText,
        plans: slice(l.plans, sizes.plans, now.plans), conflicts: slice(l.conflicts, sizes.conflicts, now.conflicts), events: slice(l.events, sizes.events, now.events),
        files: [...archiveFilesOf(ctx, record.frame), ...(record.quarantined.length > 0 ? quarantineFilesOf(ctx, record.frame) : [])],
      };
      sizes = now;
      return b;
    },
  };
}

/**
 * Bundles of the merges at index ≥ `fromIndex` (and ≤ `toIndex`, when given) of a store, from its
 * journals (one pass over each). Safe while the store's merger runs: only the merges whose records
 * were committed when the call read the merge journal are read, and a committed merge's files and
 * lines no longer change.
 */
export function exportMergeBundles(ctx: StoreContext, fromIndex: number, toIndex = Infinity): MergeBundle[] {
  const l = ctx.layout;
  const records = readJournal<MergeRecord>(l.merges, 'journal/merges.ndjson');
  if (fromIndex > records.length || toIndex < fromIndex) return [];
  const wanted = records.slice(Math.max(1, fromIndex) - 1, Math.min(records.length, toIndex));
  const frames = new Set(wanted.map((r) => r.value.frame));
  const group = (path: string, label: string, key: 'merge' | 'from'): Map<number, string> => {
    const m = new Map<number, string>();
    for (const line of readJournal<Record<string, unknown>>(path, label)) {
      const f = line.value[key];
      if (typeof f === 'number' && frames.has(f)) m.set(f, (m.get(f) ?? '') + line.text + '\n');
    }
    return m;
  };
  const plans = group(l.plans, 'journal/plans.ndjson', 'from');
  const conflicts = group(l.conflicts, 'journal/conflicts.ndjson', 'merge');
  const events = group(l.events, 'journal/events.ndjson', 'merge');
  return wanted.map((r) => ({
    index: r.line, frame: r.value.frame, record: r.text,
    plans: plans.get(r.value.frame) ?? '', conflicts: conflicts.get(r.value.frame) ?? '', events: events.get(r.value.frame) ?? '',
    files: [...archiveFilesOf(ctx, r.value.frame), ...(r.value.quarantined.length > 0 ? quarantineFilesOf(ctx, r.value.frame) : [])],
  }));
}

/** The bundle as bytes (JSON; file bytes in base64), for a transport to store. */
export function encodeMergeBundle(b: MergeBundle): Uint8Array {
  return Buffer.from(JSON.stringify({
    v: 1, index: b.index, frame: b.frame, record: b.record, plans: b.plans, conflicts: b.conflicts, events: b.events,
    files: b.files.map((f) => [f.path, Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength).toString('base64')]),
  }));
}

const SAFE_PATH = /^(?:(?:archive\/merge-\d{9}|quarantine)\/[^/\\]+|archive\/merge-\d{9}\.ndjson)$/;

/** Reads bundle bytes back; throws naming `where` when they are not a bundle (or a path escapes the store). */
export function decodeMergeBundle(bytes: Uint8Array, where: string): MergeBundle {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new FramelogError(`${where}: not a merge bundle (no JSON)`, 'bad-bundle');
  }
  const str = (k: string): string => {
    if (typeof v[k] !== 'string') throw new FramelogError(`${where}: merge bundle field ${k} is not a string`, 'bad-bundle');
    return v[k] as string;
  };
  if (v.v !== 1) throw new FramelogError(`${where}: merge bundle version ${String(v.v)} (this framelog reads 1)`, 'bad-bundle');
  if (!Number.isSafeInteger(v.index) || (v.index as number) < 1 || !Number.isSafeInteger(v.frame)) throw new FramelogError(`${where}: merge bundle without a valid index and frame`, 'bad-bundle');
  if (!Array.isArray(v.files)) throw new FramelogError(`${where}: merge bundle field files is not a list`, 'bad-bundle');
  const files = (v.files as unknown[]).map((f, i) => {
    if (!Array.isArray(f) || typeof f[0] !== 'string' || typeof f[1] !== 'string' || !SAFE_PATH.test(f[0]) || f[0].includes('/..') || f[0].endsWith('/.') ) {
      throw new FramelogError(`${where}: merge bundle file #${i + 1} has no safe store path`, 'bad-bundle');
    }
    return { path: f[0], bytes: Buffer.from(f[1], 'base64') };
  });
  return { index: v.index as number, frame: v.frame as number, record: str('record'), plans: str('plans'), conflicts: str('conflicts'), events: str('events'), files };
}
