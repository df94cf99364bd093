import type { ConflictRecord, EventRecord, MergeRecord } from '../../merge/records.js';
import { readJournal } from './journalFile.js';
import type { StoreContext } from '../storeContext.js';

/** Filters for the conflict journal; every given filter must match. */
export interface ConflictFilter {
  /** The merge (frame) that recorded it, or an inclusive range. */
  frame?: number | { from?: number; to?: number };
  kind?: ConflictRecord['kind'];
  type?: string;
  id?: string;
  field?: string;
  collection?: string;
  /** A writer among the winner, the losers, or the delta's writer. */
  writer?: string;
}

/** Filters for the event log. */
export interface EventFilter {
  /** The event's own `type`. */
  type?: string;
  frame?: number | { from?: number; to?: number };
  writer?: string;
}

const inRange = (v: number, f: ConflictFilter['frame']): boolean => {
  if (f === undefined) return true;
  if (typeof f === 'number') return v === f;
  return (f.from === undefined || v >= f.from) && (f.to === undefined || v <= f.to);
};

function conflictWriters(c: ConflictRecord): string[] {
  if (c.kind === 'delta') return [c.writer];
  return [c.winner.writer, ...c.losers.map((l) => l.writer)];
}

/** True when conflict record `c` passes `f`. */
export function matchesConflict(c: ConflictRecord, f: ConflictFilter): boolean {
  if (!inRange(c.merge, f.frame)) return false;
  if (f.kind !== undefined && c.kind !== f.kind) return false;
  if (f.type !== undefined && (c.kind !== 'field' || c.type !== f.type)) return false;
  if (f.id !== undefined && (c.kind !== 'field' || c.id !== f.id)) return false;
  if (f.field !== undefined && (c.kind !== 'field' || c.field !== f.field)) return false;
  if (f.collection !== undefined && (c.kind !== 'item' || c.collection !== f.collection)) return false;
  if (f.writer !== undefined && !conflictWriters(c).includes(f.writer)) return false;
  return true;
}

/** The merge records, oldest first. */
export function readLog(ctx: StoreContext): MergeRecord[] {
  return readJournal<MergeRecord>(ctx.layout.merges, 'journal/merges.ndjson').map((l) => l.value);
}

/** The conflict records that pass `filter`, in journal order. */
export function queryConflicts(ctx: StoreContext, filter: ConflictFilter = {}): ConflictRecord[] {
  return readJournal<ConflictRecord>(ctx.layout.conflicts, 'journal/conflicts.ndjson').map((l) => l.value).filter((c) => matchesConflict(c, filter));
}

/** The event records that pass `filter`, in journal order. */
export function queryEvents(ctx: StoreContext, filter: EventFilter = {}): EventRecord[] {
  return readJournal<EventRecord>(ctx.layout.events, 'journal/events.ndjson').map((l) => l.value).filter((e) =>
    (f => inRange(e.merge, f))(filter.frame) &&
    (filter.type === undefined || e.event.type === filter.type) &&
    (filter.writer === undefined || e.writer === filter.writer));
}
