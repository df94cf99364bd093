import type { Delta, JsonObject, JsonValue } from '../../delta/types.js';
import type { State } from '../../merge/canonicalState.js';
import type { DeltaBuilder } from '../../writer/deltaBuilder.js';
import type { LogicalClock } from '../clock/logicalClock.js';
import type { Rng } from '../rng/createRng.js';
import type { DeltaOps, InitialState, Simulation } from '../simulation/Simulation.js';
import { createTickContext } from './TickContext.js';

/** The writer name of shard `index`. */
export const shardName = (index: number): string => `shard-${index}`;

/** What one shard's delta for one frame depends on — and nothing else. */
export interface ShardDeltaInput<P extends JsonObject> {
  sim: Pick<Simulation<P>, 'initialState' | 'tick'>;
  seed: string;
  params: P;
  shards: number;
  clock: LogicalClock;
  /** The run's root generator (`createRng(seed)`). */
  root: Rng;
  frame: number;
  shard: number;
  /** The state after frame − 1 (frozen). */
  state: Readonly<State>;
  /** Adds `meta.wall_ms` (time spent in the tick): useful, but the store is then no longer byte-reproducible. */
  wallTime?: boolean;
}

function addOps(b: DeltaBuilder, ops: DeltaOps & InitialState): void {
  for (const [c, list] of Object.entries(ops.items ?? {})) for (const item of list) b.item(c, item);
  for (const [name, by] of Object.entries(ops.counters ?? {})) b.incr(name, by);
  for (const table of [ops.set, ops.entities]) {
    for (const [type, ids] of Object.entries(table ?? {})) for (const [id, fields] of Object.entries(ids)) b.set(type, id, fields as JsonObject);
  }
  for (const e of ops.events ?? []) b.event(e);
  if (ops.meta !== undefined && ops.meta !== null) b.meta(typeof ops.meta === 'object' && !Array.isArray(ops.meta) ? ops.meta : { value: ops.meta as JsonValue });
}

/**
 * Computes shard `shard`'s delta for `frame`: the tick (or, at frame 0, the initial state) with a
 * generator split by shard and frame and the logical `utc`. A throw becomes a fallback delta whose
 * `meta.error` says why. Pure given its input: every process computes the same bytes.
 */
export function buildShardDelta<P extends JsonObject>(i: ShardDeltaInput<P>): Delta {
  const writer = shardName(i.shard);
  const utc = i.clock.utc(i.frame);
  const rng = i.root.split(`shard-${i.shard}`).split(`frame-${i.frame}`);
  const { ctx, builder } = createTickContext({ frame: i.frame, shard: { index: i.shard, count: i.shards, name: writer }, seed: i.seed, params: i.params, utc, rng });
  const started = i.wallTime ? performance.now() : 0;
  try {
    let out: DeltaOps | InitialState | void;
    if (i.frame === 0) {
      const init = i.sim.initialState;
      out = typeof init === 'function' ? init(ctx) : i.shard === 0 ? init : undefined;
    } else {
      out = i.sim.tick(ctx, i.state, i.frame);
    }
    if (out) addOps(builder, out as DeltaOps & InitialState);
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    return { frame: i.frame, writer, utc, seq: 0, status: 'fallback', meta: { error } };
  }
  if (i.wallTime) builder.meta({ wall_ms: Math.round((performance.now() - started) * 1000) / 1000 });
  return builder.toDelta({ frame: i.frame, writer, utc, seq: 0 });
}
