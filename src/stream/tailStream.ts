import fs from 'node:fs';
import { LineScanner } from './LineScanner.js';
import { compileRecordFilter, type RecordFilterSpec, type RecordPredicate } from './recordFilter.js';
import type { CorruptLine, ScannedRecord } from './ScannedRecord.js';
import { StreamError } from './StreamError.js';

export interface TailOptions {
  readonly filter?: RecordFilterSpec | RecordPredicate;
  readonly onCorrupt?: (corrupt: CorruptLine) => void;
}

/** The last records of a stream, and the cursor to follow from. */
export interface TailResult {
  /** In file order, at most `n`. */
  readonly records: ScannedRecord[];
  /** Just after the last complete line: where following begins. */
  readonly end: number;
}

const BLOCK = 64 * 1024;

/**
 * The last `n` records of a stream file, read backwards from its end, so the cost depends on the
 * size of those records and not of the file. A partial last line is skipped; corrupt lines are
 * reported and do not count towards `n`.
 */
export function tailStream(file: string, n: number, options: TailOptions = {}): TailResult {
  if (!Number.isSafeInteger(n) || n < 0) throw new StreamError('BAD_FILTER', `-n ${n} is not a whole number ≥ 0`);
  const filter = typeof options.filter === 'function' ? options.filter : compileRecordFilter(options.filter);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StreamError('NOT_FOUND', `${file} does not exist`);
    throw err;
  }
  try {
    const block = Buffer.allocUnsafe(BLOCK);
    const end = completeEnd(fd, fs.fstatSync(fd).size, block);
    let found: ScannedRecord[] = [];
    let regionEnd = end;
    while (found.length < n && regionEnd > 0) {
      const regionStart = startOfLastLines(fd, regionEnd, n - found.length, block);
      const region = Buffer.allocUnsafe(regionEnd - regionStart);
      readFully(fd, region, regionStart);
      const out: ScannedRecord[] = [];
      new LineScanner(file, filter, options.onCorrupt, regionStart).scan(region, 0, region.length, regionStart, out);
      found = out.concat(found);
      regionEnd = regionStart;
    }
    return { records: found.length > n ? found.slice(found.length - n) : found, end };
  } finally {
    fs.closeSync(fd);
  }
}

/** Offset just after the last newline at or before `size` (0 if none). */
function completeEnd(fd: number, size: number, block: Buffer): number {
  for (let pos = size; pos > 0; ) {
    const from = Math.max(0, pos - block.length);
    const got = fs.readSync(fd, block, 0, pos - from, from);
    if (got === 0) break;
    const nl = block.lastIndexOf(10, got - 1);
    if (nl !== -1) return from + nl + 1;
    pos = from;
  }
  return 0;
}

/** Start offset of the `count`-th last line of `[0, end)`, where byte `end - 1` is a newline. */
function startOfLastLines(fd: number, end: number, count: number, block: Buffer): number {
  let seen = 0;
  let pos = end - 1; // skip the newline that ends the last line
  while (pos > 0) {
    const from = Math.max(0, pos - block.length);
    const got = fs.readSync(fd, block, 0, pos - from, from);
    if (got === 0) break;
    for (let i = block.lastIndexOf(10, got - 1); i !== -1; i = i > 0 ? block.lastIndexOf(10, i - 1) : -1) {
      if (++seen === count) return from + i + 1;
    }
    pos = from;
  }
  return 0;
}

function readFully(fd: number, buf: Buffer, position: number): void {
  for (let done = 0; done < buf.length; ) {
    const got = fs.readSync(fd, buf, done, buf.length - done, position + done);
    if (got === 0) throw new StreamError('IO', `stream file shrank while reading at byte ${position + done}`);
    done += got;
  }
}
