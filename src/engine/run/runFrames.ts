import type { Delta, JsonObject } from '../../delta/types.js';
import type { State } from '../../merge/canonicalState.js';
import { stateView } from '../../merge/stateView.js';
import type { MergeRecord } from '../../merge/records.js';
import type { Merger } from '../../store/openStore.js';
import { putDeltas } from '../../store/inbox/putDeltas.js';
import type { StoreContext } from '../../store/storeContext.js';
import type { LogicalClock } from '../clock/logicalClock.js';
import { createRng } from '../rng/createRng.js';
import type { ShardHost, WorkerEvent } from '../shard/ShardHost.js';
import type { Simulation } from '../simulation/Simulation.js';
import { buildShardDelta, shardName } from '../tick/buildShardDelta.js';
import { deepFreeze } from '../tick/deepFreeze.js';

/** Callbacks and controls of {@link Engine.run}. */
export interface RunHooks {
  /** After each merge commits. */
  onMerge?: (record: MergeRecord) => void;
  /** Worker processes starting and ending (sharded runs). */
  onWorker?: (e: WorkerEvent) => void;
  /** Right after frame `frame` was handed to the shards (sharded runs: the live workers). */
  onFrameOpen?: (frame: number, workers: Array<{ worker: number; pid: number | undefined; shards: number[] }>) => void;
  /** Stops the run between frames. */
  signal?: AbortSignal;
}

/** What the frame loop needs to know about the run. */
export interface FrameLoop {
  ctx: StoreContext;
  merger: Merger;
  sim: Pick<Simulation, 'initialState' | 'tick'>;
  seed: string;
  params: JsonObject;
  shards: number;
  clock: LogicalClock;
  wallTime: boolean;
  host?: ShardHost;
}

const EMPTY: State = deepFreeze({ items: {}, counters: {}, entities: {} });

/** Writes a fallback delta for each shard whose worker died before its delta reached the inbox. */
function fallbacksForCrashed(loop: FrameLoop, frame: number, crashed: number[]): void {
  if (crashed.length === 0) return;
  const present = new Set(loop.merger.scan().valid.filter((v) => v.delta.frame === frame).map((v) => v.delta.writer));
  const inputs = crashed.filter((s) => !present.has(shardName(s))).map((s) => {
    const d: Delta = { frame, writer: shardName(s), utc: loop.clock.utc(frame), seq: 0, status: 'fallback', meta: { error: 'worker process died before reporting' } };
    return { bytes: Buffer.from(JSON.stringify(d)), source: `fallback of ${shardName(s)} frame ${frame}` };
  });
  if (inputs.length > 0) putDeltas(loop.ctx, inputs);
}

/**
 * Closes frames `from` … `to`: each frame, every shard's tick sees the state after the frame
 * before and emits one delta (in this process, or on the host's workers), and one merge closes
 * the frame with the logical clock as the merger's clock. Returns the records written.
 */
export async function runFrames(loop: FrameLoop, from: number, to: number, hooks: RunHooks = {}): Promise<MergeRecord[]> {
  const out: MergeRecord[] = [];
  const root = createRng(loop.seed);
  for (let f = from; f <= to; f++) {
    if (hooks.signal?.aborted) break;
    if (loop.host) {
      const report = loop.host.frame(f, f === 0 ? null : loop.merger.state.frame);
      hooks.onFrameOpen?.(f, loop.host.live);
      const r = await report;
      fallbacksForCrashed(loop, f, r.crashed);
    } else {
      // The ticks read the merger's own state through a read-only view: nothing is copied.
      const state = f === 0 || loop.merger.state.frame === null ? EMPTY : stateView(loop.merger.state);
      const inputs = [];
      for (let s = 0; s < loop.shards; s++) {
        const d = buildShardDelta({ sim: loop.sim, seed: loop.seed, params: loop.params, shards: loop.shards, clock: loop.clock, root, frame: f, shard: s, state, wallTime: loop.wallTime });
        inputs.push({ bytes: Buffer.from(JSON.stringify(d)), source: `${shardName(s)} frame ${f}` });
      }
      loop.merger.put(inputs);
      hooks.onFrameOpen?.(f, []);
    }
    const ms = loop.clock.ms(f);
    for (const r of loop.merger.merge({ frames: [f], now: () => ms })) {
      out.push(r);
      hooks.onMerge?.(r);
    }
    // Let timers, signals and IPC run between frames: a long run never starves the event loop.
    if (!loop.host && f % 16 === 15) await new Promise((r) => setImmediate(r));
  }
  return out;
}
