import type { ValidDelta } from './types.js';

/**
 * The stamp of a write: the delta's merge-order tuple `(frame, utc instant, writer, seq)` plus
 * the write's position inside the delta. The content hash, the last key of merge order, never
 * separates two applied deltas (only one copy per identity is applied), so stored stamps omit it.
 */
export interface Stamp {
  frame: number;
  utcMs: number;
  writer: string;
  seq: number;
  pos: number;
}

/** Compares two strings by UTF-16 code units (bytes, for the ASCII writer names). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Merge order (PROTOCOL §2): ascending `(frame, utc instant, writer, seq, content hash)`. */
export function compareDeltas(a: ValidDelta, b: ValidDelta): number {
  return a.frame - b.frame || a.utcMs - b.utcMs || compareStrings(a.writer, b.writer) || a.seq - b.seq || compareStrings(a.sha256, b.sha256);
}

/** Orders two stamps: negative when `a` comes first. */
export function compareStamps(a: Stamp, b: Stamp): number {
  return a.frame - b.frame || a.utcMs - b.utcMs || compareStrings(a.writer, b.writer) || a.seq - b.seq || a.pos - b.pos;
}

/** The stamp of the write at `pos` inside delta `d`. */
export function stampOf(d: ValidDelta, pos: number): Stamp {
  return { frame: d.frame, utcMs: d.utcMs, writer: d.writer, seq: d.seq, pos };
}
