import { closeSync, existsSync, fstatSync, openSync, readSync, readFileSync } from 'node:fs';
import { sha256Hex } from '../../delta/contentHash.js';
import { FramelogError } from '../../errors.js';

/** One line of an NDJSON journal, with where it sits. */
export interface JournalLine<T> {
  value: T;
  /** The line's text, without its newline. */
  text: string;
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte. */
  offset: number;
}

/**
 * Reads every complete line of an NDJSON journal. A trailing fragment without its newline is not
 * a record (it was never committed) and is left out; a line that does not parse is an error
 * naming file and line.
 */
export function readJournal<T>(path: string, label: string): Array<JournalLine<T>> {
  if (!existsSync(path)) return [];
  const buf = readFileSync(path);
  const out: Array<JournalLine<T>> = [];
  let start = 0;
  let line = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break;
    line++;
    const text = buf.toString('utf8', start, nl);
    let value: T;
    try {
      value = JSON.parse(text) as T;
    } catch {
      throw new FramelogError(`${label}:${line}: not a JSON record`, 'corrupt-journal');
    }
    out.push({ value, text, line, offset: start });
    start = nl + 1;
  }
  return out;
}

/** Size in bytes of the complete lines of a file (everything up to its last newline). */
export function committedLength(path: string): number {
  if (!existsSync(path)) return 0;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.allocUnsafe(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      const nl = chunk.lastIndexOf(10, n - 1);
      if (nl >= 0) return start + nl + 1;
      end = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

/** The hash that chains merge records: SHA-256 of the previous record's line. */
export const lineHash = (text: string): string => sha256Hex(text);
