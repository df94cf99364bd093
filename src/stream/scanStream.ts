import fs from 'node:fs';
import { LineScanner } from './LineScanner.js';
import { compileRecordFilter, type RecordFilterSpec, type RecordPredicate } from './recordFilter.js';
import type { CorruptLine, ScannedRecord } from './ScannedRecord.js';
import { StreamError } from './StreamError.js';

export interface ScanOptions {
  /** Start at this cursor (a byte offset at the start of a line; default 0). */
  readonly from?: number;
  /** Keep only matching records: a spec or a compiled predicate. */
  readonly filter?: RecordFilterSpec | RecordPredicate;
  /** Told about each corrupt line; without it corrupt lines are still counted in the summary. */
  readonly onCorrupt?: (corrupt: CorruptLine) => void;
  /** Bytes read per system call (default 1 MiB); grows for a longer line. */
  readonly chunkBytes?: number;
}

/** What a finished scan saw. */
export interface ScanSummary {
  /** Complete lines read, corrupt ones included. */
  readonly lines: number;
  /** Records yielded (after the filter). */
  readonly records: number;
  readonly corrupt: number;
  /** The cursor to resume from: just after the last complete line. */
  readonly end: number;
  /** Bytes after the last newline, not yielded (a write in progress, or a torn tail). */
  readonly partialTailBytes: number;
}

/**
 * Reads a stream file from a cursor to its current end, yielding matching records one chunk's
 * worth at a time (the fast path: one array per read). Corrupt lines are reported through
 * `onCorrupt` with file and line number, skipped and counted; a partial last line is never
 * yielded. Returns a {@link ScanSummary}.
 */
export async function* scanStreamBatches(
  file: string,
  options: ScanOptions = {},
): AsyncGenerator<ScannedRecord[], ScanSummary, undefined> {
  const from = options.from ?? 0;
  const filter = typeof options.filter === 'function' ? options.filter : compileRecordFilter(options.filter);
  const scanner = new LineScanner(file, filter, options.onCorrupt, from);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StreamError('NOT_FOUND', `${file} does not exist`);
    throw err;
  }
  let records = 0;
  try {
    await checkCursor(fh, file, from);
    let buf: Buffer = Buffer.allocUnsafe(options.chunkBytes ?? 1 << 20);
    let filled = 0; // bytes in buf, from file offset `base`
    let base = from;
    for (;;) {
      if (filled === buf.length) buf = grow(buf, filled);
      const want = buf.length - filled;
      const { bytesRead } = await fh.read(buf, filled, want, base + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      // A short read is the end of the file as it is now. Stop there rather than read on after a
      // partial line: an appender may cut a torn tail and write a new record in its place.
      const atEnd = bytesRead < want;
      const out: ScannedRecord[] = [];
      const used = scanner.scan(buf, 0, filled, base, out);
      if (used > 0) {
        buf.copyWithin(0, used, filled);
        filled -= used;
        base += used;
      }
      if (out.length > 0) {
        records += out.length;
        yield out;
      }
      if (atEnd) break;
    }
    return { lines: scanner.lines, records, corrupt: scanner.corrupt, end: base, partialTailBytes: filled };
  } finally {
    await fh.close();
  }
}

/**
 * Reads a stream file record by record (see {@link scanStreamBatches} for the rules): each
 * {@link ScannedRecord} carries its cursor and the cursor to resume from.
 */
export function scanStream(file: string, options: ScanOptions = {}): AsyncGenerator<ScannedRecord, ScanSummary, undefined> {
  // A hand-written iterator over the batches: a record already read is handed out without the
  // generator machinery (an async generator's yield* per record costs ~30% of the scan).
  const batches = scanStreamBatches(file, options);
  let batch: ScannedRecord[] = [];
  let i = 0;
  const it: AsyncGenerator<ScannedRecord, ScanSummary, undefined> = {
    next(): Promise<IteratorResult<ScannedRecord, ScanSummary>> {
      if (i < batch.length) return Promise.resolve({ value: batch[i++]!, done: false });
      return batches.next().then((step) => {
        if (step.done) return step;
        batch = step.value;
        i = 1;
        return { value: batch[0]!, done: false };
      });
    },
    async return(value: ScanSummary | PromiseLike<ScanSummary>): Promise<IteratorResult<ScannedRecord, ScanSummary>> {
      batch = [];
      const summary = await value;
      await batches.return(summary); // closes the file
      return { value: summary, done: true };
    },
    async throw(err: unknown): Promise<IteratorResult<ScannedRecord, ScanSummary>> {
      batch = [];
      await batches.return(undefined as unknown as ScanSummary);
      throw err;
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

function grow(buf: Buffer, filled: number): Buffer {
  const bigger = Buffer.allocUnsafe(buf.length * 2);
  buf.copy(bigger, 0, 0, filled);
  return bigger;
}

async function checkCursor(fh: fs.promises.FileHandle, file: string, from: number): Promise<void> {
  if (!Number.isSafeInteger(from) || from < 0) {
    throw new StreamError('BAD_CURSOR', `cursor ${from} for ${file} is not a byte offset (a whole number ≥ 0)`);
  }
  if (from === 0) return;
  const size = (await fh.stat()).size;
  if (from > size) {
    throw new StreamError('BAD_CURSOR', `cursor ${from} is past the end of ${file} (${size} bytes): was the stream replaced?`);
  }
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, from - 1);
  if (b[0] !== 10) {
    throw new StreamError('BAD_CURSOR', `cursor ${from} is not at the start of a record in ${file}: use a cursor or next value that a read gave`);
  }
}
