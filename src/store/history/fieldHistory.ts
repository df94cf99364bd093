import type { JsonValue } from '../../delta/types.js';
import { FramelogError } from '../../errors.js';
import type { FieldConflict } from '../../merge/records.js';
import { PlanHistory } from '../planHistory.js';
import type { StoreContext } from '../storeContext.js';
import { appliedDeltasOf } from './archive.js';
import { openJournalIndex } from './journalIndex.js';
import { queryConflicts, type ConflictEntry } from './journalQueries.js';

/** One write to a field, as {@link fieldHistory} returns it. */
export interface FieldWriteEntry {
  /** The merge that applied it. */
  merge: number;
  /** The delta that wrote it: its identity and wall clock. */
  frame: number;
  writer: string;
  seq: number;
  utc: string;
  value: JsonValue;
  /**
   * `won`: the field held this value after the merge; `lost`: another write (or the value before,
   * under a policy such as `max`) won, and the conflict names both; `same`: it lost the stamp
   * contest but wrote the winner's value, so nothing was lost.
   */
  outcome: 'won' | 'lost' | 'same';
  /** The conflict this write took part in (`m<merge>.<n>`), when the merge recorded one. */
  conflict?: string;
  /** The resolution that closed that conflict, when one has. */
  resolvedBy?: ConflictEntry['resolvedBy'];
}

/** Options of {@link fieldHistory}. */
export interface FieldHistoryOptions {
  /** Only merges at frames below this one (the `next` of an earlier page). */
  before?: number;
  /** At most this many writes (newest first; default 100). */
  limit?: number;
  /** At most this many merges read per call (default 2,000): a call costs that at most, whatever the history's length. */
  scanMerges?: number;
}

/** A page of a field's history, newest write first. */
export interface FieldHistoryPage {
  writes: FieldWriteEntry[];
  /** Pass as `before` for the older writes; absent when the walk reached the first merge. */
  next?: number;
  /** How many merges this page read. */
  scanned: number;
}

/**
 * Every write to the field `(type, id, field)`, newest first, with how each fared: the merges are
 * read backwards from the newest (or from `before`), each merge's applied deltas from its archive
 * segment, and a write that lost is matched to its conflict record (and the resolution that closed
 * it). A page stops at `limit` writes or after `scanMerges` merges, and says where to go on.
 */
export function fieldHistory(ctx: StoreContext, type: string, id: string, field: string, o: FieldHistoryOptions = {}): FieldHistoryPage {
  const limit = o.limit ?? 100;
  const scanMerges = o.scanMerges ?? 2000;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new FramelogError(`field history: limit ${limit} must be a whole number ≥ 1`, 'bad-argument');
  if (!Number.isSafeInteger(scanMerges) || scanMerges < 1) throw new FramelogError(`field history: scanMerges ${scanMerges} must be a whole number ≥ 1`, 'bad-argument');
  const conflicts = new Map<number, ConflictEntry & FieldConflict>();
  for (const c of queryConflicts(ctx, { kind: 'field', type, id, field })) conflicts.set(c.merge, c as ConflictEntry & FieldConflict);
  const idx = openJournalIndex(ctx);
  try {
    const plans = PlanHistory.load(ctx);
    const writes: FieldWriteEntry[] = [];
    let i = o.before === undefined ? idx.count - 1 : idx.lastAtOrBelow(o.before - 1);
    let scanned = 0;
    for (; i >= 0 && scanned < scanMerges && writes.length < limit; i--, scanned++) {
      const record = idx.read(i, i)[0].value;
      const here: FieldWriteEntry[] = [];
      for (const d of appliedDeltasOf(ctx, record, plans.planAt(record.frame))) {
        for (const w of d.writes) {
          if (w.type !== type || w.id !== id || w.field !== field) continue;
          here.push({ merge: record.frame, frame: d.frame, writer: d.writer, seq: d.seq, utc: d.utc, value: w.value, outcome: 'won' });
        }
      }
      if (here.length === 0) continue;
      const c = conflicts.get(record.frame);
      for (const w of here) {
        if (c) {
          const stamped = (s: { frame: number; writer: string; seq: number }): boolean => s.frame === w.frame && s.writer === w.writer && s.seq === w.seq;
          w.outcome = stamped(c.winner) ? 'won' : c.losers.some(stamped) ? 'lost' : 'same';
          w.conflict = c.conflict;
          if (c.resolvedBy) w.resolvedBy = c.resolvedBy;
        } else if (here.length > 1 && w !== here[here.length - 1]) {
          // Several writes and no conflict: they agreed on the value (no loser is recorded then).
          w.outcome = 'same';
        }
      }
      writes.push(...here.reverse());
    }
    return { writes, ...(i >= 0 ? { next: idx.frameAt(i + 1) } : {}), scanned };
  } finally {
    idx.close();
  }
}
