import type { ConflictRecord, EventRecord, MergeRecord, Resolved } from '../../merge/records.js';
import { conflictIdsOf } from '../../merge/resolutions.js';
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
  /** `true`: only conflicts no resolution has closed yet; `false`: only resolved ones (PROTOCOL §2a). */
  open?: boolean;
  /** Only these conflict ids (`m530.0`). */
  ids?: readonly string[];
}

/** A conflict as queries return it: the journal's record, its id, and the resolution that closed it. */
export type ConflictEntry = ConflictRecord & {
  /** Its id, `m<merge>.<n>` (records written before v1.1 get the id their place gives them). */
  conflict: string;
  /** The first resolution applied that names it, and the merge that applied it; absent while open. */
  resolvedBy?: Resolved & { merge: number };
};

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

/** Conflict id → the first resolution that names it, from the merge records' `resolved` lists. */
export function resolutionIndex(records: readonly MergeRecord[]): Map<string, Resolved & { merge: number }> {
  const out = new Map<string, Resolved & { merge: number }>();
  for (const r of records) for (const x of r.resolved ?? []) if (!out.has(x.conflict)) out.set(x.conflict, { ...x, merge: r.frame });
  return out;
}

/**
 * The conflict records that pass `filter`, in journal order, each with its id and, once resolved,
 * the resolution that closed it.
 */
export function queryConflicts(ctx: StoreContext, filter: ConflictFilter = {}): ConflictEntry[] {
  const records = readJournal<ConflictRecord>(ctx.layout.conflicts, 'journal/conflicts.ndjson').map((l) => l.value);
  const resolved = resolutionIndex(readLog(ctx));
  const ids = new Set(filter.ids ?? []);
  const out: ConflictEntry[] = [];
  for (let i = 0; i < records.length;) {
    // One merge's records at a time: older records get their ids from their place among them.
    let j = i + 1;
    while (j < records.length && records[j].merge === records[i].merge) j++;
    const group = records.slice(i, j);
    const groupIds = conflictIdsOf(group);
    group.forEach((c, k) => {
      const id = groupIds[k];
      const by = resolved.get(id);
      if (filter.open !== undefined && filter.open === (by !== undefined)) return;
      if (ids.size > 0 && !ids.has(id)) return;
      if (!matchesConflict(c, filter)) return;
      out.push({ ...c, conflict: id, ...(by ? { resolvedBy: by } : {}) } as ConflictEntry);
    });
    i = j;
  }
  return out;
}

/** The event records that pass `filter`, in journal order. */
export function queryEvents(ctx: StoreContext, filter: EventFilter = {}): EventRecord[] {
  return readJournal<EventRecord>(ctx.layout.events, 'journal/events.ndjson').map((l) => l.value).filter((e) =>
    (f => inRange(e.merge, f))(filter.frame) &&
    (filter.type === undefined || e.event.type === filter.type) &&
    (filter.writer === undefined || e.writer === filter.writer));
}
