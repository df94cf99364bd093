/**
 * A tiny simulation for the engine's tests: walkers on a line, a few per shard, each drifting
 * toward the mean position of all walkers (so shards depend on each other through the state).
 * `params.slowFrame` makes every tick of that frame busy-wait `params.slowMs` (crash tests kill a
 * worker mid-tick); `params.failFrame` makes shard 0 throw at that frame (a fallback).
 */
import type { JsonObject } from '../../delta/types.js';
import type { Simulation } from '../simulation/Simulation.js';

export interface WalkersParams extends JsonObject {
  walkers: number;
  slowFrame: number;
  slowMs: number;
  failFrame: number;
}

export const walkersSimulation: Simulation<WalkersParams> = {
  name: 'walkers',
  params: { walkers: 3, slowFrame: -1, slowMs: 0, failFrame: -1 },
  initialState(ctx) {
    for (let i = 0; i < ctx.params.walkers; i++) ctx.set('walker', `${ctx.shard.index}.${i}`, { x: ctx.rng.int(100), steps: 0 });
  },
  tick(ctx, state, frame) {
    if (frame === ctx.params.slowFrame) {
      const until = Date.now() + ctx.params.slowMs;
      while (Date.now() < until) { /* busy: a worker killed now dies mid-tick */ }
    }
    if (frame === ctx.params.failFrame && ctx.shard.index === 0) throw new Error('walker fell off the line');
    const all = Object.values(state.entities.walker ?? {}) as Array<{ x: number }>;
    const mean = all.reduce((s, w) => s + w.x, 0) / Math.max(1, all.length);
    for (let i = 0; i < ctx.params.walkers; i++) {
      const id = `${ctx.shard.index}.${i}`;
      const me = state.entities.walker?.[id] as { x: number; steps: number } | undefined;
      if (!me) continue;
      const step = (me.x < mean ? 1 : -1) + ctx.rng.range(-2, 2);
      ctx.set('walker', id, { x: me.x + step, steps: me.steps + 1 }).incr('steps');
      if (Math.abs(step) >= 3) ctx.emit({ type: 'leap', walker: id, step });
    }
    if (ctx.rng.chance(0.1)) ctx.append('marks', { id: `m-${frame}-${ctx.shard.index}`, frame });
  },
};

export default walkersSimulation;
