import type { StreamRecord } from './StreamRecord.js';

/** A record read from a stream, with where it is. */
export interface ScannedRecord {
  readonly record: StreamRecord;
  /** Byte offset of the record's first byte: its cursor. */
  readonly cursor: number;
  /** Byte offset just after its newline: resume from here to read what follows. */
  readonly next: number;
  /** The line as stored, without its newline. */
  readonly line: string;
}

/** A line that is not a JSON object: reported, skipped and counted, never yielded. */
export interface CorruptLine {
  /** The stream file (as given to the reader). */
  readonly file: string;
  /** 1-based line number in the file. */
  readonly line: number;
  readonly offset: number;
  readonly length: number;
  readonly reason: string;
}
