import { canonicalJson } from '../delta/canonicalJson.js';
import { compareStamps, stampOf } from '../delta/stamp.js';
import type { ValidDelta } from '../delta/types.js';
import type { ConflictTracker } from './conflictTracker.js';
import { itemKey, type ItemKeys } from './itemKey.js';
import type { Collection, FieldEntry, ItemEntry, MergeState } from './mergeState.js';

/** Inserts an entry into a collection's order (sorted by stamp); new items usually go last. */
function insertOrdered(order: ItemEntry[], entry: ItemEntry): void {
  let hi = order.length;
  if (hi === 0 || compareStamps(order[hi - 1].stamp, entry.stamp) < 0) {
    order.push(entry);
    return;
  }
  let lo = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareStamps(order[mid].stamp, entry.stamp) < 0) lo = mid + 1;
    else hi = mid;
  }
  order.splice(lo, 0, entry);
}

function removeOrdered(order: ItemEntry[], entry: ItemEntry): void {
  const i = order.lastIndexOf(entry);
  if (i >= 0) order.splice(i, 1);
}

const canonOf = (e: ItemEntry): string => e.canon ?? (e.canon = canonicalJson(e.item));

/**
 * Applies one valid delta's operations to the state (PROTOCOL §2): items append (earliest stamp
 * wins per natural key), counters sum, fields take the later stamp. Mutates `state`; records
 * disagreements in `tracker` when one is given. Identity bookkeeping is the caller's.
 * Validation has already run, so this cannot fail halfway: a delta applies whole.
 */
export function applyDelta(state: MergeState, d: ValidDelta, keys: ItemKeys, tracker?: ConflictTracker): void {
  let pos = 0;
  for (const { collection, item } of d.items) {
    const stamp = stampOf(d, pos++);
    let coll = state.items.get(collection);
    if (!coll) {
      coll = { byKey: new Map(), order: [] } satisfies Collection;
      state.items.set(collection, coll);
    }
    const key = itemKey(keys, collection, item);
    const entry: ItemEntry = { key, item, stamp };
    const stored = coll.byKey.get(key);
    if (!stored) {
      coll.byKey.set(key, entry);
      insertOrdered(coll.order, entry);
      continue;
    }
    const earlier = compareStamps(stamp, stored.stamp) < 0;
    const same = canonOf(stored) === canonOf(entry);
    if (earlier) {
      // The earliest stamp owns the key (and the array position), whether or not content differs.
      coll.byKey.set(key, entry);
      removeOrdered(coll.order, stored);
      insertOrdered(coll.order, entry);
      if (!same && tracker) tracker.itemLoser(collection, key, coll.byKey, stored);
    } else if (!same && tracker) tracker.itemLoser(collection, key, coll.byKey, entry);
  }
  for (const [name, value] of d.counters) {
    state.counters.set(name, (state.counters.get(name) ?? 0) + value);
  }
  for (const w of d.writes) {
    const stamp = stampOf(d, pos++);
    let byId = state.entities.get(w.type);
    if (!byId) {
      byId = new Map();
      state.entities.set(w.type, byId);
    }
    let fields = byId.get(w.id);
    if (!fields) {
      fields = new Map();
      byId.set(w.id, fields);
    }
    const current = fields.get(w.field);
    const write: FieldEntry = { value: w.value, stamp };
    if (tracker) tracker.fieldWrite(w.type, w.id, w.field, fields, current, write);
    if (!current || compareStamps(stamp, current.stamp) > 0) fields.set(w.field, write);
  }
}
