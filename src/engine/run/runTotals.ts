import type { MergeRecord } from '../../merge/records.js';

/** What a run (or one call of `run`) merged. */
export interface RunTotals {
  /** Merge records written. */
  merges: number;
  /** First and last frame closed (null when none). */
  first: number | null;
  last: number | null;
  /** Deltas applied (late ones included). */
  deltas: number;
  late: number;
  fallback: number;
  missing: number;
  duplicates: number;
  conflicts: number;
  quarantined: number;
  /** State hash of the last checkpoint merge (records between checkpoints carry none). */
  state_sha256: string | null;
}

/** Empty totals. */
export const emptyTotals = (): RunTotals => ({ merges: 0, first: null, last: null, deltas: 0, late: 0, fallback: 0, missing: 0, duplicates: 0, conflicts: 0, quarantined: 0, state_sha256: null });

/** Adds one merge record to `t`. */
export function addRecord(t: RunTotals, r: MergeRecord): RunTotals {
  t.merges++;
  t.first ??= r.frame;
  t.last = r.frame;
  t.deltas += r.applied.length;
  t.late += r.late.length;
  t.fallback += r.fallback.length;
  t.missing += r.missing.length;
  t.duplicates += r.duplicates.length;
  t.conflicts += r.conflicts;
  t.quarantined += r.quarantined.length;
  if (r.state_sha256 !== undefined) t.state_sha256 = r.state_sha256;
  return t;
}
