import { canonicalJson } from '../delta/canonicalJson.js';
import type { JsonObject, JsonValue } from '../delta/types.js';
import { formatUtc } from '../delta/utcInstant.js';
import type { MergeState } from './mergeState.js';

/** One field that changed between two frames, and who set the new value. */
export interface FieldChange {
  type: string;
  id: string;
  field: string;
  /** Absent when the field had no value at the first frame. */
  old?: JsonValue;
  new: JsonValue;
  writer: string;
  frame: number;
  seq: number;
  utc: string;
}

/** An item present at the second frame and not (or with other content) at the first. */
export interface ItemChange {
  collection: string;
  key: string;
  item: JsonObject;
  /** The item it took the place of, when a late item with an earlier stamp displaced one. */
  replaced?: JsonObject;
  writer: string;
  frame: number;
  seq: number;
}

/** A counter whose value differs between the two frames. */
export interface CounterChange {
  name: string;
  old: number;
  new: number;
  delta: number;
}

/** A field that has a value at the first frame and none at the second (a diff from a later frame to an earlier one). */
export interface FieldRemoval {
  type: string;
  id: string;
  field: string;
  old: JsonValue;
}

/** An item present at the first frame and not at the second (a diff from a later frame to an earlier one). */
export interface ItemRemoval {
  collection: string;
  key: string;
  item: JsonObject;
}

/**
 * What changed between two frames (PROTOCOL: `framelog diff A B`), old → new from A to B. Going
 * forward (A < B) nothing is ever removed: fields and items only change or appear. Going backward
 * (A > B), what the frames between added shows as removed.
 */
export interface StateDiff {
  from: number;
  to: number;
  fields: FieldChange[];
  items: ItemChange[];
  counters: CounterChange[];
  /** Fields with a value at `from` and none at `to`. */
  fieldsRemoved: FieldRemoval[];
  /** Items present at `from` and not at `to`. */
  itemsRemoved: ItemRemoval[];
}

const sorted = <V>(m: Map<string, V>): Array<[string, V]> => [...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
const sameStamp = (a: { stamp: object }, b: { stamp: object }): boolean => canonicalJson(a.stamp as JsonObject) === canonicalJson(b.stamp as JsonObject);

/** Compares two merge states field by field, item by item, counter by counter. */
export function diffStates(a: MergeState, b: MergeState, from: number, to: number): StateDiff {
  const fields: FieldChange[] = [];
  for (const [type, byId] of sorted(b.entities)) {
    const aById = a.entities.get(type);
    for (const [id, fs] of sorted(byId)) {
      const aFs = aById?.get(id);
      for (const [field, e] of sorted(fs)) {
        const old = aFs?.get(field);
        if (old && sameStamp(old, e)) continue;
        if (old && canonicalJson(old.value) === canonicalJson(e.value) && old.stamp.writer === e.stamp.writer) continue;
        fields.push({ type, id, field, ...(old ? { old: old.value } : {}), new: e.value, writer: e.stamp.writer, frame: e.stamp.frame, seq: e.stamp.seq, utc: formatUtc(e.stamp.utcMs) });
      }
    }
  }
  const items: ItemChange[] = [];
  for (const [collection, coll] of sorted(b.items)) {
    const aColl = a.items.get(collection);
    for (const e of coll.order) {
      const old = aColl?.byKey.get(e.key);
      if (old && sameStamp(old, e)) continue;
      if (old && canonicalJson(old.item) === canonicalJson(e.item)) continue;
      items.push({ collection, key: e.key, item: e.item, ...(old ? { replaced: old.item } : {}), writer: e.stamp.writer, frame: e.stamp.frame, seq: e.stamp.seq });
    }
  }
  const fieldsRemoved: FieldRemoval[] = [];
  for (const [type, byId] of sorted(a.entities)) {
    const bById = b.entities.get(type);
    for (const [id, fs] of sorted(byId)) {
      const bFs = bById?.get(id);
      for (const [field, e] of sorted(fs)) if (!bFs?.has(field)) fieldsRemoved.push({ type, id, field, old: e.value });
    }
  }
  const itemsRemoved: ItemRemoval[] = [];
  for (const [collection, coll] of sorted(a.items)) {
    const bColl = b.items.get(collection);
    for (const e of coll.order) if (!bColl?.byKey.has(e.key)) itemsRemoved.push({ collection, key: e.key, item: e.item });
  }
  const counters: CounterChange[] = [];
  const names = new Set([...a.counters.keys(), ...b.counters.keys()]);
  for (const name of [...names].sort()) {
    const o = a.counters.get(name) ?? 0;
    const n = b.counters.get(name) ?? 0;
    if (o !== n || !a.counters.has(name)) counters.push({ name, old: o, new: n, delta: n - o });
  }
  return { from, to, fields, items, counters, fieldsRemoved, itemsRemoved };
}
