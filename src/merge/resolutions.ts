import { CONFLICT_ID } from '../delta/validateDelta.js';
import type { ValidDelta } from '../delta/types.js';
import type { ConflictRecord } from './records.js';
import { compareStrings } from '../delta/stamp.js';

/** A conflict id taken apart: `m<merge>.<n>`. */
export interface ConflictIdParts {
  merge: number;
  n: number;
}

/** Parses a conflict id (`m530.2`), or undefined when it is not one. */
export function parseConflictId(id: string): ConflictIdParts | undefined {
  const m = CONFLICT_ID.exec(id);
  return m ? { merge: Number(m[1]), n: Number(m[2]) } : undefined;
}

/**
 * Why a resolution cannot be applied (PROTOCOL §2a): the first id it names that the conflict
 * journal does not hold, as a one-line quarantine reason; undefined when every id is known (or the
 * delta resolves nothing). `counts` is merge → number of conflict records it wrote.
 */
export function unknownResolution(d: ValidDelta, counts: ReadonlyMap<number, number>): string | undefined {
  if (!d.resolves) return undefined;
  for (let i = 0; i < d.resolves.length; i++) {
    const id = d.resolves[i];
    const p = parseConflictId(id);
    const count = p ? counts.get(p.merge) : undefined;
    if (!p || count === undefined || p.n >= count) {
      const held = count === undefined ? `merge ${p?.merge ?? '?'} recorded no conflicts` : `merge ${p!.merge} recorded ${count}`;
      return `resolves[${i}]: resolves unknown conflict ${id} (${held})`;
    }
  }
  return undefined;
}

const kindRank = { delta: 0, item: 1, field: 2 } as const;

/** Orders two conflict records of one merge as PROTOCOL v1.1 §2 numbers them. */
export function compareConflictPlaces(a: ConflictRecord, b: ConflictRecord): number {
  if (a.kind !== b.kind) return kindRank[a.kind] - kindRank[b.kind];
  if (a.kind === 'delta' && b.kind === 'delta') return a.frame - b.frame || compareStrings(a.writer, b.writer) || a.seq - b.seq;
  if (a.kind === 'item' && b.kind === 'item') return compareStrings(a.collection, b.collection) || compareStrings(a.key, b.key);
  if (a.kind === 'field' && b.kind === 'field') return compareStrings(a.type, b.type) || compareStrings(a.id, b.id) || compareStrings(a.field, b.field);
  return 0;
}

/**
 * The id of every conflict record of one merge. Records since v1.1 carry theirs; records written
 * before it get the id their place gives them in the v1.1 order, so an old store's conflicts can be
 * resolved too.
 */
export function conflictIdsOf(records: readonly ConflictRecord[]): string[] {
  if (records.every((c) => c.conflict !== undefined)) return records.map((c) => c.conflict!);
  const order = records.map((c, i) => i).sort((i, j) => compareConflictPlaces(records[i], records[j]));
  const ids: string[] = new Array(records.length);
  order.forEach((i, n) => (ids[i] = `m${records[i].merge}.${n}`));
  return ids;
}
