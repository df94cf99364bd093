import type { JsonObject, JsonValue } from '../delta/types.js';
import type { State } from './canonicalState.js';
import type { Collection, FieldEntry, MergeState } from './mergeState.js';

/**
 * A read-only view of a merge state, shaped as the canonical {@link State} (PROTOCOL §4), built
 * without copying: each level is a proxy that reads the engine's maps when asked. Keys enumerate
 * in code-unit order, as in the canonical state, whatever order merges added them in, so a tick
 * that iterates them behaves the same in a run resumed from a snapshot. Values are frozen the
 * first time they are read. Any write throws. The view follows the state: read it before the
 * next merge (the engine hands it to the ticks of one frame).
 *
 * Cost: O(1) to take; a read costs a map lookup; enumerating n keys costs O(n) (the sorted key
 * list is kept per map and merged with the keys added since, never sorted whole again).
 */
export function stateView(s: MergeState): State {
  const counters = mapView(() => s.counters, (v) => v);
  const items = mapView(() => nonEmpty(s.items), (c: Collection) => arrayView(c));
  const entities = mapView(() => s.entities, (byId: Map<string, Map<string, FieldEntry>>) => entityTypeView(byId));
  return Object.freeze({ counters, entities, items }) as unknown as State;
}

const refuse = (): never => {
  throw new TypeError('framelog state views are read-only: emit a delta to change state');
};

const READ_ONLY = { set: refuse, defineProperty: refuse, deleteProperty: refuse, setPrototypeOf: refuse, preventExtensions: refuse };

/** Deep-freezes a JSON value the first time it is handed out (frozen subtrees are skipped). */
function frozen<T>(v: T): T {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return v;
  Object.freeze(v);
  if (Array.isArray(v)) for (const x of v) frozen(x);
  else for (const k of Object.keys(v)) frozen((v as Record<string, unknown>)[k]);
  return v;
}

/** Collections that hold an item (an empty one is not in the canonical state). */
function nonEmpty(m: Map<string, Collection>): Map<string, Collection> {
  for (const c of m.values()) if (c.order.length === 0) return new Map([...m].filter(([, v]) => v.order.length > 0));
  return m;
}

/**
 * Sorted keys of a map that only grows: the list sorted last time, merged with the keys added
 * since (a Map iterates in insertion order, so those are its last entries).
 */
function sortedKeysOf(): (m: Map<string, unknown>) => string[] {
  let sorted: string[] = [];
  let seen = 0;
  let source: Map<string, unknown> | undefined;
  return (m) => {
    if (m !== source || m.size < seen) {
      source = m;
      sorted = [...m.keys()].sort();
      seen = m.size;
      return sorted;
    }
    if (m.size === seen) return sorted;
    const added: string[] = [];
    let i = 0;
    for (const k of m.keys()) if (i++ >= seen) added.push(k);
    added.sort();
    const out: string[] = new Array(sorted.length + added.length);
    let a = 0, b = 0, o = 0;
    while (a < sorted.length && b < added.length) out[o++] = sorted[a] < added[b] ? sorted[a++] : added[b++];
    while (a < sorted.length) out[o++] = sorted[a++];
    while (b < added.length) out[o++] = added[b++];
    sorted = out;
    seen = m.size;
    return sorted;
  };
}

/** An object whose properties are a map's entries, each value shown through `show`. */
function mapView<V>(mapOf: () => Map<string, V>, show: (v: V) => unknown): Record<string, unknown> {
  const keys = sortedKeysOf();
  const shown = new WeakMap<object, unknown>();
  const valueOf = (v: V): unknown => {
    if (typeof v !== 'object' || v === null) return show(v);
    let x = shown.get(v as object);
    if (x === undefined) shown.set(v as object, (x = show(v)));
    return x;
  };
  return new Proxy(Object.create(null) as Record<string, unknown>, {
    ...READ_ONLY,
    get(_t, k) {
      if (typeof k !== 'string') return undefined;
      const v = mapOf().get(k);
      return v === undefined ? undefined : valueOf(v);
    },
    has: (_t, k) => typeof k === 'string' && mapOf().has(k),
    ownKeys: () => keys(mapOf() as Map<string, unknown>),
    getOwnPropertyDescriptor(_t, k) {
      if (typeof k !== 'string') return undefined;
      const v = mapOf().get(k);
      return v === undefined ? undefined : { value: valueOf(v), writable: false, enumerable: true, configurable: true };
    },
  });
}

/** The ids of one entity type; each id's fields. */
function entityTypeView(byId: Map<string, Map<string, FieldEntry>>): unknown {
  return mapView(() => byId, (fields: Map<string, FieldEntry>) => mapView(() => fields, (e: FieldEntry) => frozen(e.value as JsonValue)));
}

const isIndex = (k: string | symbol): k is string => typeof k === 'string' && k.length > 0 && k.length < 16 && /^(0|[1-9]\d*)$/.test(k);

/** A collection as an array (`Array.isArray` holds; map, forEach, iteration and JSON all work). */
function arrayView(c: Collection): JsonObject[] {
  return new Proxy([] as JsonObject[], {
    ...READ_ONLY,
    get(target, k, receiver) {
      if (k === 'length') return c.order.length;
      if (isIndex(k)) {
        const e = c.order[Number(k)];
        return e === undefined ? undefined : frozen(e.item);
      }
      return Reflect.get(target, k, receiver);
    },
    has: (target, k) => (isIndex(k) ? Number(k) < c.order.length : Reflect.has(target, k)),
    ownKeys: () => [...Array.from({ length: c.order.length }, (_, i) => String(i)), 'length'],
    getOwnPropertyDescriptor(_t, k) {
      if (k === 'length') return { value: c.order.length, writable: true, enumerable: false, configurable: false };
      if (!isIndex(k) || Number(k) >= c.order.length) return undefined;
      return { value: frozen(c.order[Number(k)].item), writable: false, enumerable: true, configurable: true };
    },
  });
}
