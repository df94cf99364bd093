import type { JsonObject, JsonValue } from '../../delta/types.js';
import { createDeltaBuilder, type DeltaBuilder } from '../../writer/deltaBuilder.js';
import type { Rng } from '../rng/createRng.js';

/** Which shard a tick runs for. */
export interface ShardInfo {
  /** 0 … count − 1. */
  index: number;
  /** The run's shard count (fixed by the run). */
  count: number;
  /** The shard's writer name (`shard-3`). */
  name: string;
}

/**
 * What a tick sees besides the state: where it is (frame, shard, logical `utc`), the run's
 * parameters, a seeded generator private to this shard and frame, and helpers that build the
 * shard's delta.
 */
export interface TickContext<P extends JsonObject = JsonObject> {
  readonly frame: number;
  readonly shard: ShardInfo;
  /** The run's seed. */
  readonly seed: string;
  readonly params: Readonly<P>;
  /** The logical time of this frame (`start + frame × step`). */
  readonly utc: string;
  /** Seeded by (seed, shard, frame): the same numbers whichever process hosts the shard. */
  readonly rng: Rng;
  /** Sets one field (`set('agents', '42', 'status', 'idle')`) or several (`set('agents', '42', {…})`). */
  set(type: string, id: string, field: string | JsonObject, value?: JsonValue): this;
  /** Adds `by` (default 1) to a counter. */
  incr(counter: string, by?: number): this;
  /** Appends an item to a collection (deduplicated by its natural key). */
  append(collection: string, item: JsonObject): this;
  /** Appends an event to the frame's event log. */
  emit(event: JsonObject): this;
  /** Free-form metadata, archived with the delta, never merged. */
  meta(meta: JsonObject): this;
  /** The shard that owns `key` (a stable hash of the key, modulo the shard count). */
  shardOf(key: string | number): number;
  /** True when this shard owns `key`. */
  owns(key: string | number): boolean;
}

/** A context and the builder behind it (the engine stamps the builder into a delta). */
export interface TickScope<P extends JsonObject> {
  ctx: TickContext<P>;
  builder: DeltaBuilder;
}

/** FNV-1a of a string: a stable, fast owner hash for {@link TickContext.shardOf}. */
export function stableHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Makes the context of one shard's tick. */
export function createTickContext<P extends JsonObject>(o: { frame: number; shard: ShardInfo; seed: string; params: P; utc: string; rng: Rng }): TickScope<P> {
  const builder = createDeltaBuilder();
  const shardOf = (key: string | number): number => (typeof key === 'number' && Number.isInteger(key) ? Math.abs(key) % o.shard.count : stableHash(String(key)) % o.shard.count);
  const ctx: TickContext<P> = {
    frame: o.frame,
    shard: o.shard,
    seed: o.seed,
    params: o.params,
    utc: o.utc,
    rng: o.rng,
    set(type, id, field, value) {
      builder.set(type, id, field, value);
      return this;
    },
    incr(counter, by = 1) {
      builder.incr(counter, by);
      return this;
    },
    append(collection, item) {
      builder.item(collection, item);
      return this;
    },
    emit(event) {
      builder.event(event);
      return this;
    },
    meta(meta) {
      builder.meta(meta);
      return this;
    },
    shardOf,
    owns: (key) => shardOf(key) === o.shard.index,
  };
  return { ctx, builder };
}
