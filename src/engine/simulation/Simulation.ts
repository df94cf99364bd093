import type { Plan } from '../../delta/plan.js';
import type { Delta, JsonObject } from '../../delta/types.js';
import type { State } from '../../merge/canonicalState.js';
import type { TickContext } from '../tick/TickContext.js';

/** The operations of a delta, without its stamp: what a tick may return. */
export type DeltaOps = Pick<Delta, 'items' | 'counters' | 'set' | 'events' | 'meta'>;

/** An initial state in the canonical shape (each key optional). */
export type InitialState = Partial<State>;

/**
 * One frame of one shard: sees the state after frame N−1 (read-only, frozen) and returns the
 * shard's delta for frame N (or builds it through `ctx`; both are combined). A throw becomes a
 * fallback delta for that shard and frame.
 */
export type TickFn<P extends JsonObject = JsonObject> = (ctx: TickContext<P>, state: Readonly<State>, frame: number) => DeltaOps | void;

/**
 * Frame 0 of one shard: a fixed initial state (emitted by shard 0), or a function called once
 * per shard with `ctx.frame === 0` and the empty state.
 */
export type InitFn<P extends JsonObject = JsonObject> = InitialState | ((ctx: TickContext<P>) => InitialState | DeltaOps | void);

/** A simulation: what an {@link Engine} runs. A module exporting one can be hosted by worker processes. */
export interface Simulation<P extends JsonObject = JsonObject> {
  /** The run's name (kept in `run.json`). */
  name: string;
  /** Frame 0. */
  initialState?: InitFn<P>;
  tick: TickFn<P>;
  /** Default parameters (`ctx.params`); a run or a fork may override any of them. */
  params?: P;
  /** Plan fields over the engine's defaults (item keys, snapshot interval…). */
  plan?: Partial<Plan>;
}
