import { canonicalJson } from '../delta/canonicalJson.js';
import { sha256Hex } from '../delta/contentHash.js';
import type { JsonObject, JsonValue } from '../delta/types.js';
import type { FieldEntry, ItemEntry, MergeState } from './mergeState.js';

/** Canonical state (PROTOCOL §4): the same for every transport and arrival order. */
export interface State {
  items: Record<string, JsonObject[]>;
  counters: Record<string, number>;
  entities: Record<string, Record<string, Record<string, JsonValue>>>;
}

const sortedKeys = <V>(m: Map<string, V>): string[] => [...m.keys()].sort();
const dict = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;

/** The canonical state object of a merge state (keys sorted; stamps left out). */
export function toState(s: MergeState): State {
  const items = dict<JsonObject[]>();
  for (const c of sortedKeys(s.items)) {
    const coll = s.items.get(c)!;
    if (coll.order.length > 0) items[c] = coll.order.map((e) => e.item);
  }
  const counters = dict<number>();
  for (const k of sortedKeys(s.counters)) counters[k] = s.counters.get(k)!;
  const entities = dict<Record<string, Record<string, JsonValue>>>();
  for (const t of sortedKeys(s.entities)) {
    const byId = s.entities.get(t)!;
    const outT = dict<Record<string, JsonValue>>();
    let anyId = false;
    for (const id of sortedKeys(byId)) {
      const fields = byId.get(id)!;
      if (fields.size === 0) continue;
      const outF = dict<JsonValue>();
      for (const f of sortedKeys(fields)) outF[f] = fields.get(f)!.value;
      outT[id] = outF;
      anyId = true;
    }
    if (anyId) entities[t] = outT;
  }
  return { counters, entities, items } as State;
}

const key = (k: string): string => JSON.stringify(k);
const itemCanon = (e: ItemEntry): string => e.canon ?? (e.canon = canonicalJson(e.item));
const fieldCanon = (e: FieldEntry): string => e.canon ?? (e.canon = canonicalJson(e.value));

/**
 * Canonical JSON of a state: byte-identical wherever it was computed (equal to
 * `canonicalJson(toState(s))`). Built from each item's and field's cached canonical text, so a
 * merge re-serialises only what it wrote, and hashing the state is one pass over its bytes.
 */
export function stateJson(s: MergeState): string {
  const parts: string[] = ['{"counters":{'];
  let first = true;
  for (const k of sortedKeys(s.counters)) {
    parts.push((first ? '' : ',') + key(k) + ':' + JSON.stringify(s.counters.get(k)));
    first = false;
  }
  parts.push('},"entities":{');
  let firstType = true;
  for (const t of sortedKeys(s.entities)) {
    const byId = s.entities.get(t)!;
    let firstId = true;
    for (const id of sortedKeys(byId)) {
      const fields = byId.get(id)!;
      if (fields.size === 0) continue;
      if (firstId) parts.push((firstType ? '' : ',') + key(t) + ':{');
      parts.push((firstId ? '' : ',') + key(id) + ':{');
      let firstField = true;
      for (const f of sortedKeys(fields)) {
        parts.push((firstField ? '' : ',') + key(f) + ':' + fieldCanon(fields.get(f)!));
        firstField = false;
      }
      parts.push('}');
      firstId = false;
      firstType = false;
    }
    if (!firstId) parts.push('}');
  }
  parts.push('},"items":{');
  first = true;
  for (const c of sortedKeys(s.items)) {
    const order = s.items.get(c)!.order;
    if (order.length === 0) continue;
    parts.push((first ? '' : ',') + key(c) + ':[');
    for (let i = 0; i < order.length; i++) parts.push((i ? ',' : '') + itemCanon(order[i]));
    parts.push(']');
    first = false;
  }
  parts.push('}}');
  return parts.join('');
}

/** SHA-256 of the canonical state, as merge records carry it. */
export function stateSha256(s: MergeState): string {
  return sha256Hex(stateJson(s));
}
