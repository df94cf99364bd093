import type { Delta, JsonObject, JsonValue } from '../delta/types.js';

/** Collects one unit of work's operations; {@link DeltaBuilder.toDelta} stamps them. */
export interface DeltaBuilder {
  /** Appends an item to a collection (deduplicated by the collection's natural key). */
  item(collection: string, item: JsonObject): DeltaBuilder;
  /** Adds `by` (default 1) to a counter. */
  incr(counter: string, by?: number): DeltaBuilder;
  /** Sets one field, or several (`set('agents', '42', { status: 'idle', load: 0.3 })`). */
  set(type: string, id: string, field: string | JsonObject, value?: JsonValue): DeltaBuilder;
  /** Appends an event to the merge's event log. */
  event(event: JsonObject): DeltaBuilder;
  /** Free-form metadata, archived and never merged. */
  meta(meta: JsonObject): DeltaBuilder;
  /** True when no operation was added. */
  readonly empty: boolean;
  /** The delta with its stamp. */
  toDelta(stamp: { frame: number; writer: string; utc: string; seq: number }): Delta;
}

/** A fresh, empty delta builder. */
export function createDeltaBuilder(): DeltaBuilder {
  const items: Record<string, JsonObject[]> = Object.create(null);
  const counters: Record<string, number> = Object.create(null);
  const set: Record<string, Record<string, Record<string, JsonValue>>> = Object.create(null);
  const events: JsonObject[] = [];
  let meta: JsonObject | undefined;
  let ops = 0;
  const b: DeltaBuilder = {
    item(collection, item) {
      (items[collection] ??= []).push(item);
      ops++;
      return b;
    },
    incr(counter, by = 1) {
      counters[counter] = (counters[counter] ?? 0) + by;
      ops++;
      return b;
    },
    set(type, id, field, value) {
      const fields = ((set[type] ??= Object.create(null) as Record<string, Record<string, JsonValue>>)[id] ??= Object.create(null) as Record<string, JsonValue>);
      if (typeof field === 'string') fields[field] = value === undefined ? null : value;
      else Object.assign(fields, field);
      ops++;
      return b;
    },
    event(event) {
      events.push(event);
      ops++;
      return b;
    },
    meta(m) {
      meta = { ...(meta ?? {}), ...m };
      return b;
    },
    get empty() {
      return ops === 0;
    },
    toDelta({ frame, writer, utc, seq }) {
      const d: Delta = { frame, writer, utc, seq };
      if (Object.keys(items).length) d.items = { ...items };
      if (Object.keys(counters).length) d.counters = { ...counters };
      if (Object.keys(set).length) {
        // A copy of the builder's own tables (type → id → fields), not of the values: a deep copy
        // cost as much as the tick itself when a tick sets large values.
        const copy: NonNullable<Delta['set']> = {};
        for (const t of Object.keys(set)) {
          const ids: Record<string, Record<string, JsonValue>> = (copy[t] = {});
          for (const id of Object.keys(set[t])) ids[id] = { ...set[t][id] };
        }
        d.set = copy;
      }
      if (events.length) d.events = events;
      if (meta) d.meta = meta;
      return d;
    },
  };
  return b;
}
