import { readTextIfExists } from '../../durable/index.js';
import { closeSync, constants, existsSync, fdatasyncSync, openSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../delta/contentHash.js';
import { FramelogError } from '../../errors.js';
import type { MergeRecord } from '../../merge/records.js';
import { decodeSegment, readSegmentCommit, SEGMENT_FILE, type SegmentEntry } from '../history/archiveSegment.js';
import { fsyncDir, readFileNoAtime, truncateDurable, writeAll } from '../../durable/durableFs.js';
import { archiveHash, listInbox } from '../inbox/inbox.js';
import { ndjsonLines } from '../../delta/ndjsonLines.js';
import type { StoreContext } from '../storeContext.js';

/**
 * The merge commit in one sync (PROTOCOL v1.1 §3, §5). A merge whose deltas all come from the
 * inbox writes one archive segment that ends in a commit line holding everything the merge adds
 * to the journals; the segment's `fdatasync` (and its folder's) is the commit, and the merge is
 * acknowledged when it returns. The journals are then appended without a sync of their own:
 * they are made durable every {@link SETTLE_EVERY} merges, when a watch-mode merger is idle, and
 * when the merger closes. While they lag, the intent file holds a marker naming the journal
 * sizes last made durable; after a crash, recovery cuts the journals back to those sizes and
 * appends again, from the commit lines of the segments written since, exactly the bytes the
 * merges appended, and removes the inbox files those merges had taken. The segment holds nothing
 * that depends on how the deltas reached the inbox, so a replayed run writes the same bytes. A segment torn before its sync returned has no whole commit line (or its
 * deltas do not hash to its record's `archive_sha256`): that merge was never acknowledged, its
 * inbox files are still there, and the segment is removed.
 */
export interface JournalLag {
  /** True once this session's marker is durable (the journals may lag the archive). */
  marked: boolean;
  /** Merges and journal bytes appended since the journals were last made durable. */
  merges: number;
  bytes: number;
  /** Journals appended to since then (paths). */
  dirty: Set<string>;
}

/** Journals are made durable after this many lagging merges… */
export const SETTLE_EVERY = 64;
/** …or once this many journal bytes lag. */
export const SETTLE_BYTES = 8 << 20;

/** What the intent file holds while the journals may lag the archive. */
export interface LagMarker {
  /** The last merge whose journal lines were durable when the marker was written (null: none). */
  frame: number | null;
  /** The journal sizes then. */
  sizes: { merges: number; conflicts: number; events: number; plans: number };
}

/** A fresh lag: nothing appended, no marker. */
export const noLag = (): JournalLag => ({ marked: false, merges: 0, bytes: 0, dirty: new Set() });

/** Reads the lag marker from the intent file, if that is what it holds. */
export function readLagMarker(ctx: StoreContext): LagMarker | undefined {
  const text = readTextIfExists(ctx.layout.intent);
  if (text === undefined) return undefined;
  const nl = text.indexOf('\n');
  if (nl < 0 || !text.startsWith('{"lazy":')) return undefined;
  try {
    const v = (JSON.parse(text.slice(0, nl)) as { lazy?: LagMarker }).lazy;
    return v && typeof v.sizes === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the intent file in place (one write, one `fdatasync`); its first line is what counts. */
export function writeIntentText(ctx: StoreContext, text: string): void {
  const created = !existsSync(ctx.layout.intent);
  try {
    const fd = openSync(ctx.layout.intent, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
    try {
      writeAll(fd, Buffer.from(text));
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (created) fsyncDir(ctx.layout.journal);
  } catch (e) {
    // Nothing was committed: a torn intent or marker is never acted on (readIntent, readLagMarker).
    if (e instanceof Error && !e.message.includes(ctx.layout.intent)) e.message += ` (writing ${ctx.layout.intent}: nothing was committed)`;
    throw e;
  }
}

/** Intent files that hold a lag marker this process wrote (anything that rewrites the file forgets it). */
const markedHere = new Set<string>();

/** True when the lag marker this session wrote still stands (no intent, recovery or rewind replaced it). */
export const lagMarkerStands = (ctx: StoreContext, lag: JournalLag): boolean => lag.marked && markedHere.has(ctx.layout.intent);

/** Notes that the intent file was rewritten (by an intent, its clearing, or recovery). */
export const intentReplaced = (ctx: StoreContext): void => void markedHere.delete(ctx.layout.intent);

/** Writes the lag marker durably before the first merge whose journal lines may lag. */
export function markLag(ctx: StoreContext, lag: JournalLag, marker: LagMarker): void {
  writeIntentText(ctx, JSON.stringify({ lazy: marker }) + '\n');
  markedHere.add(ctx.layout.intent);
  lag.marked = true;
}

/**
 * Before a change that cuts or rewrites history under the lock (a rewind): journals that lag are
 * made durable and their marker cleared, so that no recovery appends their lines again.
 */
export function settleLagMarker(ctx: StoreContext): void {
  if (!readLagMarker(ctx)) return;
  syncAllJournals(ctx);
  writeFileSync(ctx.layout.intent, '{}\n');
  intentReplaced(ctx);
}

/** Appends to a journal without a sync (the segment's commit line already holds the text). */
export function appendLagging(lag: JournalLag, path: string, text: string): void {
  if (text.length === 0) return;
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
  try {
    writeAll(fd, Buffer.from(text));
  } finally {
    closeSync(fd);
  }
  lag.dirty.add(path);
  lag.bytes += text.length;
}

function fdatasyncPath(path: string): void {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes the lagging journals durable and clears the marker (not synced: a marker that survives a
 * crash only makes recovery append the same bytes again).
 */
export function settleJournals(ctx: StoreContext, lag: JournalLag): void {
  if (!lag.marked && lag.dirty.size === 0) return;
  for (const p of lag.dirty) fdatasyncPath(p);
  if (lag.dirty.size > 0) fsyncDir(ctx.layout.journal);
  if (lagMarkerStands(ctx, lag)) {
    writeFileSync(ctx.layout.intent, '{}\n');
    intentReplaced(ctx);
  }
  lag.marked = false;
  lag.merges = 0;
  lag.bytes = 0;
  lag.dirty.clear();
}

/** Makes every journal durable (before an intent that would replace a lag marker is written). */
export function syncAllJournals(ctx: StoreContext): void {
  const l = ctx.layout;
  for (const p of [l.merges, l.conflicts, l.events, l.plans]) {
    try {
      fdatasyncPath(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  fsyncDir(l.journal);
}

/**
 * Removes the inbox files a redone merge had taken (the merger died before removing them): each
 * file whose every delta (every non-blank line of a batch) is among the archived bytes. A file
 * that holds anything else stays for the next merge.
 */
function removeTakenInboxFiles(ctx: StoreContext, archived: Set<string>): void {
  for (const name of listInbox(ctx.layout)) {
    const path = join(ctx.layout.inbox, name);
    const bytes = readFileNoAtime(path);
    let all: boolean;
    if (name.endsWith('.ndjson')) all = ndjsonLines(bytes).every((l) => archived.has(sha256Hex(l.bytes)));
    else all = archived.has(sha256Hex(bytes));
    if (all) unlinkSync(path);
  }
}

/** Is this segment whole: a commit line for `frame` whose record its deltas, conflicts and events hash to? */
function committedOf(buf: Buffer, frame: number, where: string) {
  const commit = readSegmentCommit(buf);
  if (!commit) return undefined;
  let record: MergeRecord;
  let entries: SegmentEntry[];
  try {
    record = JSON.parse(commit.record) as MergeRecord;
    entries = decodeSegment(buf, where);
  } catch {
    return undefined;
  }
  if (record.frame !== frame) return undefined;
  if (record.archive_sha256 !== archiveHash(entries.map((e) => ({ name: e.name, bytesSha256: sha256Hex(e.bytes) })))) return undefined;
  if (record.conflicts_sha256 !== sha256Hex(commit.conflicts) || record.events_sha256 !== sha256Hex(commit.events)) return undefined;
  return commit;
}

/**
 * Recovery while a lag marker stands: cuts the journals back to the marker's sizes, appends the
 * journal lines of every segment written since (in frame order) from its commit line, removes
 * a torn last segment and the inbox files of committed ones, makes it all durable and clears
 * the marker. Returns the number of merges whose lines were appended again. Needs the lock.
 */
export function redoLaggingJournals(ctx: StoreContext, marker: LagMarker): number {
  const l = ctx.layout;
  const after = marker.frame ?? -1;
  const frames: number[] = [];
  for (const n of readdirSync(l.archive)) {
    const m = SEGMENT_FILE.exec(n);
    if (m && Number(m[1]) > after) frames.push(Number(m[1]));
  }
  frames.sort((a, b) => a - b);
  truncateDurable(l.merges, marker.sizes.merges);
  truncateDurable(l.conflicts, marker.sizes.conflicts);
  truncateDurable(l.events, marker.sizes.events);
  truncateDurable(l.plans, marker.sizes.plans);
  const lag = noLag();
  let redone = 0;
  const archived = new Set<string>();
  for (const [i, frame] of frames.entries()) {
    const rel = `archive/merge-${String(frame).padStart(9, '0')}.ndjson`;
    const commit = committedOf(readFileSync(join(l.root, rel)), frame, rel);
    if (!commit) {
      if (i !== frames.length - 1) throw new FramelogError(`${rel}: no whole commit line, yet later merges committed (repair the archive by hand, or restore it)`, 'corrupt-archive');
      unlinkSync(join(l.root, rel)); // torn before its sync returned: never acknowledged
      fsyncDir(l.archive);
      break;
    }
    if (commit.plan) appendLagging(lag, l.plans, commit.plan);
    appendLagging(lag, l.conflicts, commit.conflicts);
    appendLagging(lag, l.events, commit.events);
    appendLagging(lag, l.merges, commit.record + '\n');
    for (const e of decodeSegment(readFileSync(join(l.root, rel)), rel)) archived.add(sha256Hex(e.bytes));
    redone++;
  }
  if (archived.size > 0) removeTakenInboxFiles(ctx, archived);
  settleJournals(ctx, lag);
  writeFileSync(l.intent, '{}\n'); // a marker that survives another crash only means appending the same bytes again
  intentReplaced(ctx);
  return redone;
}
