import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { MergeRecord } from '../../merge/records.js';
import { FramelogError } from '../../errors.js';
import { committedLength, type JournalLine } from './journalFile.js';
import type { StoreContext } from '../storeContext.js';

const ENTRY = 16; // frame (u64) + byte offset (u64) of each merge record's line

/** Path of the merge journal's index: a cache, rebuilt from the journal when missing or stale. */
export const journalIndexPath = (ctx: StoreContext): string => join(ctx.layout.journal, 'merges.idx');

/**
 * Random access to the merge journal: record i's frame and line by binary search over a
 * fixed-width index (`journal/merges.idx`), so finding a frame costs O(log n) reads whatever the
 * history length. The index is a cache: the merger appends to it after each commit and repairs it
 * on start; a reader whose index is stale fills the gap in memory from the journal.
 */
export interface JournalIndex {
  /** Number of committed merge records. */
  readonly count: number;
  /** Frame of record `i`. */
  frameAt(i: number): number;
  /** Index of the last record with frame ≤ `frame`, or -1. */
  lastAtOrBelow(frame: number): number;
  /** Records `from` to `to` inclusive, parsed, with their line text. */
  read(from: number, to: number): Array<JournalLine<MergeRecord>>;
  close(): void;
}

interface Entry { frame: number; offset: number }

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** Reads the line starting at `offset` (without its newline). */
function lineAt(fd: number, offset: number, end: number): { text: string; next: number } {
  let size = 4096;
  for (;;) {
    const buf = readAt(fd, offset, Math.min(size, end - offset));
    const nl = buf.indexOf(10);
    if (nl >= 0) return { text: buf.toString('utf8', 0, nl), next: offset + nl + 1 };
    if (offset + buf.length >= end) throw new FramelogError(`journal/merges.ndjson: no line end after byte ${offset}`, 'corrupt-journal');
    size *= 4;
  }
}

const frameOf = (text: string, offset: number): number => {
  const m = /^\{"frame":(\d+)[,}]/.exec(text);
  if (m) return Number(m[1]);
  try {
    return (JSON.parse(text) as MergeRecord).frame;
  } catch {
    throw new FramelogError(`journal/merges.ndjson: byte ${offset}: not a JSON record`, 'corrupt-journal');
  }
};

/**
 * Opens the journal index. With `repair` (the merger, holding the lock), a stale or missing
 * index file is fixed on disk; otherwise the missing tail is computed in memory.
 */
export function openJournalIndex(ctx: StoreContext, { repair = false } = {}): JournalIndex {
  const end = committedLength(ctx.layout.merges);
  let jfd = -1;
  try {
    jfd = openSync(ctx.layout.merges, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let ifd = -1;
  try {
    ifd = openSync(journalIndexPath(ctx), repair ? constants.O_RDWR | constants.O_CREAT : constants.O_RDONLY, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const stored = (i: number): Entry => {
    const b = readAt(ifd, i * ENTRY, ENTRY);
    return { frame: Number(b.readBigUInt64LE(0)), offset: Number(b.readBigUInt64LE(8)) };
  };
  // How many stored entries are trustworthy: the first must point at the journal's first line
  // (an index that starts later lost its head), the last at a line of its frame.
  let n = ifd >= 0 ? Math.floor(fstatSync(ifd).size / ENTRY) : 0;
  if (n > 0 && stored(0).offset !== 0) n = 0;
  while (n > 0 && jfd >= 0) {
    const e = stored(n - 1);
    if (e.offset < end) {
      try {
        if (frameOf(lineAt(jfd, e.offset, end).text, e.offset) === e.frame) break;
      } catch { /* fall through: drop the entry */ }
    }
    n--;
  }
  if (jfd < 0) n = 0;
  // Index the journal's tail past the last trusted entry.
  // Frames only go up: a line that does not (a record duplicated or moved by hand) is refused here,
  // before a binary search over it could answer with the wrong state; verify names it.
  const tail: Entry[] = [];
  let pos = n > 0 ? lineAt(jfd, stored(n - 1).offset, end).next : 0;
  let last = n > 0 ? stored(n - 1).frame : -1;
  while (jfd >= 0 && pos < end) {
    const { text, next } = lineAt(jfd, pos, end);
    const frame = frameOf(text, pos);
    if (frame <= last) {
      closeSync(jfd);
      if (ifd >= 0) closeSync(ifd);
      throw new FramelogError(`journal/merges.ndjson: the record at byte ${pos} closes frame ${frame}, not after frame ${last} (a record duplicated, moved or edited): framelog verify names it`, 'corrupt-journal');
    }
    last = frame;
    tail.push({ frame, offset: pos });
    pos = next;
  }
  if (repair && ifd >= 0) {
    ftruncateSync(ifd, n * ENTRY);
    if (tail.length > 0) {
      const buf = Buffer.allocUnsafe(tail.length * ENTRY);
      tail.forEach((e, i) => {
        buf.writeBigUInt64LE(BigInt(e.frame), i * ENTRY);
        buf.writeBigUInt64LE(BigInt(e.offset), i * ENTRY + 8);
      });
      writeSync(ifd, buf, 0, buf.length, n * ENTRY);
    }
    n += tail.length;
    tail.length = 0;
  }
  const count = n + tail.length;
  const entry = (i: number): Entry => (i < n ? stored(i) : tail[i - n]);
  return {
    count,
    frameAt: (i) => entry(i).frame,
    lastAtOrBelow(frame) {
      let lo = 0, hi = count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (entry(mid).frame <= frame) lo = mid + 1;
        else hi = mid;
      }
      return lo - 1;
    },
    read(from, to) {
      const out: Array<JournalLine<MergeRecord>> = [];
      if (from > to) return out;
      const start = entry(from).offset;
      const stop = to + 1 < count ? entry(to + 1).offset : end;
      const buf = readAt(jfd, start, stop - start);
      let p = 0;
      for (let i = from; i <= to; i++) {
        const nl = buf.indexOf(10, p);
        const text = buf.toString('utf8', p, nl);
        out.push({ value: JSON.parse(text) as MergeRecord, text, line: i + 1, offset: start + p });
        p = nl + 1;
      }
      return out;
    },
    close() {
      if (jfd >= 0) closeSync(jfd);
      if (ifd >= 0) closeSync(ifd);
    },
  };
}

/**
 * Appends one entry to the index (the merger, after a commit). Not fsynced: it is a cache. A
 * missing index is left missing (the next `openJournalIndex` with `repair` rebuilds it whole):
 * created here, it would hold only the entries appended from now on, and look trustworthy.
 */
export function appendJournalIndex(ctx: StoreContext, frame: number, offset: number): void {
  let fd: number;
  try {
    fd = openSync(journalIndexPath(ctx), constants.O_WRONLY | constants.O_APPEND, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    const b = Buffer.allocUnsafe(ENTRY);
    b.writeBigUInt64LE(BigInt(frame), 0);
    b.writeBigUInt64LE(BigInt(offset), 8);
    writeSync(fd, b);
  } finally {
    closeSync(fd);
  }
}
