import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type { RecordPredicate } from './recordFilter.js';
import type { CorruptLine, ScannedRecord } from './ScannedRecord.js';
import type { StreamRecord } from './StreamRecord.js';

/**
 * The hot loop of every reader: finds complete lines in a buffer with `Buffer.indexOf`, parses
 * each as a JSON object, reports corrupt ones (with their line number) and keeps the rest that
 * pass the filter. Bytes after the last newline are left for the next call: a reader never yields
 * a line without its `\n`.
 */
export class LineScanner {
  /** Complete lines seen (corrupt ones included). */
  lines = 0;
  corrupt = 0;
  private lineBase: number | undefined;

  constructor(
    private readonly file: string,
    private readonly filter: RecordPredicate | undefined,
    private readonly onCorrupt: ((c: CorruptLine) => void) | undefined,
    /** Byte offset of the first line this scanner sees; line numbers are counted from 0 lazily. */
    private readonly startOffset: number,
  ) {
    if (startOffset === 0) this.lineBase = 0;
  }

  /**
   * Scans `buf[start, end)`, whose byte 0 is at file offset `base`, pushing matches to `out`.
   * Returns the index just after the last complete line.
   */
  scan(buf: Buffer, start: number, end: number, base: number, out: ScannedRecord[]): number {
    const view = end === buf.length ? buf : buf.subarray(0, end);
    const last = view.lastIndexOf(10, end - 1);
    if (last < start) return start;
    const bytes = last + 1 - start;
    if (isUtf8(view.subarray(start, last + 1))) {
      // Decode the chunk once; when it is all ASCII, string offsets are byte offsets.
      const text = buf.toString('utf8', start, last + 1);
      if (text.length === bytes) {
        this.scanText(text, base + start, out);
        return last + 1;
      }
    }
    let pos = start;
    while (pos <= last) {
      const nl = view.indexOf(10, pos);
      if (isUtf8(view.subarray(pos, nl))) this.take(buf.toString('utf8', pos, nl), base + pos, base + nl + 1, out);
      else {
        this.lines++;
        this.report(base + pos, nl - pos, 'not valid UTF-8');
      }
      pos = nl + 1;
    }
    return pos;
  }

  /** Scans ASCII text of complete lines starting at file offset `at`. */
  private scanText(text: string, at: number, out: ScannedRecord[]): void {
    let pos = 0;
    const end = text.length;
    while (pos < end) {
      const nl = text.indexOf('\n', pos);
      this.take(text.slice(pos, nl), at + pos, at + nl + 1, out);
      pos = nl + 1;
    }
  }

  private take(line: string, cursor: number, next: number, out: ScannedRecord[]): void {
    this.lines++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      this.report(cursor, next - 1 - cursor, line.length === 0 ? 'empty line' : `not JSON (${(err as Error).message.slice(0, 120)})`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.report(cursor, next - 1 - cursor, 'not a JSON object');
      return;
    }
    if (this.filter === undefined || this.filter(value as StreamRecord)) {
      out.push({ record: value as StreamRecord, cursor, next, line });
    }
  }

  private report(offset: number, length: number, reason: string): void {
    this.corrupt++;
    if (this.onCorrupt === undefined) return;
    if (this.lineBase === undefined) this.lineBase = countLinesBefore(this.file, this.startOffset);
    this.onCorrupt({ file: this.file, line: this.lineBase + this.lines, offset, length, reason: reason.replace(/[\x00-\x1f]/g, '?') });
  }
}

/** Number of newlines in the first `end` bytes of `file` (only needed to number a corrupt line). */
export function countLinesBefore(file: string, end: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let count = 0;
    for (let pos = 0; pos < end; ) {
      const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, end - pos), pos);
      if (n === 0) break;
      for (let i = chunk.indexOf(10); i !== -1 && i < n; i = chunk.indexOf(10, i + 1)) count++;
      pos += n;
    }
    return count;
  } finally {
    fs.closeSync(fd);
  }
}
