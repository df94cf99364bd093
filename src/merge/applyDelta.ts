import { canonicalJson } from '../delta/canonicalJson.js';
import { compareStamps, stampOf, type Stamp } from '../delta/stamp.js';
import type { ValidDelta } from '../delta/types.js';
import type { ConflictTracker } from './conflictTracker.js';
import { itemKey, type ItemKeys } from './itemKey.js';
import type { Collection, FieldEntry, ItemEntry, MergeState } from './mergeState.js';
import { ALL_LWW, LWW, writeWins, type FieldPolicies } from './fieldPolicies.js';
import { unionWrite } from './unionField.js';

const placeOf = (e: ItemEntry): Stamp => e.at ?? e.stamp;

/** Inserts an entry into a collection's order (sorted by place); new items usually go last. */
function insertOrdered(order: ItemEntry[], entry: ItemEntry): void {
  const place = placeOf(entry);
  let hi = order.length;
  if (hi === 0 || compareStamps(placeOf(order[hi - 1]), place) < 0) {
    order.push(entry);
    return;
  }
  let lo = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareStamps(placeOf(order[mid]), place) < 0) lo = mid + 1;
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
 * True when `entry` takes its key from `stored`: a resolution's item outranks every ordinary one
 * (among resolutions the later stamp wins); otherwise the earliest stamp owns the key.
 */
function itemWins(entry: ItemEntry, stored: ItemEntry): boolean {
  const er = entry.res === true;
  if (er !== (stored.res === true)) return er;
  const c = compareStamps(entry.stamp, stored.stamp);
  return er ? c > 0 : c < 0;
}

/**
 * Applies one valid delta's operations to the state (PROTOCOL §2, §2a): items append (earliest
 * stamp wins per natural key), counters sum, fields follow their policy (later stamp by
 * default); a resolution's items and fields outrank every ordinary write. Mutates `state`;
 * records disagreements in `tracker` when one is given. Identity bookkeeping is the caller's.
 * Validation has already run, so this cannot fail halfway: a delta applies whole.
 */
export function applyDelta(state: MergeState, d: ValidDelta, keys: ItemKeys, tracker?: ConflictTracker, policies: FieldPolicies = ALL_LWW): void {
  const res = d.resolves !== undefined;
  let pos = 0;
  for (const { collection, item } of d.items) {
    const stamp = stampOf(d, pos++);
    let coll = state.items.get(collection);
    if (!coll) {
      coll = { byKey: new Map(), order: [] } satisfies Collection;
      state.items.set(collection, coll);
    }
    const key = itemKey(keys, collection, item);
    const entry: ItemEntry = res ? { key, item, stamp, res: true } : { key, item, stamp };
    const stored = coll.byKey.get(key);
    if (!stored) {
      coll.byKey.set(key, entry);
      insertOrdered(coll.order, entry);
      continue;
    }
    const same = canonOf(stored) === canonOf(entry);
    const place = placeOf(stored);
    if (itemWins(entry, stored)) {
      // The key's place in the array stays with the earliest item of that key.
      if (compareStamps(place, stamp) < 0) entry.at = place;
      coll.byKey.set(key, entry);
      removeOrdered(coll.order, stored);
      insertOrdered(coll.order, entry);
      // A resolution replacing the item of an earlier merge is what it was written for, as a
      // field's new value is: no conflict. Displacing an item of this merge is one.
      if (!same && tracker && (!res || tracker.fromThisMerge(stored.stamp))) tracker.itemLoser(collection, key, coll.byKey, stored);
    } else {
      if (compareStamps(stamp, place) < 0) {
        // A resolution's item holds the key; an earlier ordinary item moves its place forward.
        const moved: ItemEntry = { ...stored, at: stamp };
        coll.byKey.set(key, moved);
        removeOrdered(coll.order, stored);
        insertOrdered(coll.order, moved);
      }
      if (!same && tracker) tracker.itemLoser(collection, key, coll.byKey, entry);
    }
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
    const policy = policies.allLww ? LWW : policies.of(w.type, w.field);
    const write: FieldEntry = res ? { value: w.value, stamp, res: true } : { value: w.value, stamp };
    if (tracker) tracker.fieldWrite(w.type, w.id, w.field, fields, current, write, policy);
    if (policy.kind === 'union' && !res) {
      if (!current?.res) fields.set(w.field, unionWrite(current, w.value, stamp));
    } else if (!current || writeWins(write, current, policy)) fields.set(w.field, write);
  }
}
