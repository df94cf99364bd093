import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Plan } from '../../delta/plan.js';
import type { JsonObject } from '../../delta/types.js';
import { FramelogError } from '../../errors.js';
import { lineHash } from '../../store/history/journalFile.js';
import { openMergerOn } from '../../store/openStore.js';
import { lastRecordAtOrBelow, loadStateAt, readMergeRecords } from '../../store/history/stateAt.js';
import { stateSha256 } from '../../merge/canonicalState.js';
import { openJournalIndex } from '../../store/history/journalIndex.js';
import { initStore, openStoreContext, type StoreContext } from '../../store/storeContext.js';
import { verifyStore, type VerifyReport } from '../../store/history/verifyStore.js';
import { logicalClock, type LogicalClock } from '../clock/logicalClock.js';
import { ShardHost } from '../shard/ShardHost.js';
import type { Simulation } from '../simulation/Simulation.js';
import { shardName } from '../tick/buildShardDelta.js';
import { forkStore } from './forkStore.js';
import { checkSameRun, readRunManifest, writeRunManifest, type RunManifest } from './runManifest.js';
import { runFrames, type RunHooks } from './runFrames.js';
import { addRecord, emptyTotals, type RunTotals } from './runTotals.js';
import { RunView } from './RunView.js';
import { storeFingerprint, type StoreFingerprint } from './storeFingerprint.js';

/** Options of an {@link Engine}: a simulation, where its store is, and how to run it. */
export interface EngineOptions<P extends JsonObject = JsonObject> extends Omit<Simulation<P>, 'params'> {
  /** The run's store folder (created on the first `run`). Runs in different folders never touch. */
  dir: string;
  /** The run's seed: the same name, seed and code give a byte-identical store. */
  seed: string | number;
  /** The run's parameters (`ctx.params`), kept in `run.json`. */
  params?: P;
  /** Logical shards, fixed for the run (default 1): one delta per shard per frame. */
  shards?: number;
  /** Start of the logical clock (default 2026-01-01T00:00:00.000Z). */
  start?: string;
  /** Logical length of a frame in ms (default 1000). */
  stepMs?: number;
  /** Worker processes hosting the shards (default 0: this process). Needs `module`. */
  workers?: number;
  /** A module exporting this simulation, for the worker processes to import. */
  module?: string | URL;
  /** The export of `module` that is the simulation (default `default`). */
  exportName?: string;
  /** Sharded runs close a frame this long after handing it out, whoever has not reported (default 10 s). */
  frameTimeoutMs?: number;
  /** Adds each tick's wall time to `meta.wall_ms` (the store is then no longer byte-reproducible). */
  wallTime?: boolean;
}

/** Options of {@link Engine.fork}. */
export interface ForkOptions<P extends JsonObject> {
  /** The fork's own store folder (must be new or empty). */
  dir: string;
  /** A new seed (default: the parent's). */
  seed?: string | number;
  /** Parameters over the parent's. */
  params?: Partial<P>;
  /** A name for the fork (default: the parent's). */
  name?: string;
  /** Engine options that are not part of the run (workers, module, timeout…). */
  workers?: number;
}

/** Engine defaults for the plan: shard writers are expected every frame; snapshots every 50 frames. */
const ENGINE_PLAN: Partial<Plan> = { snapshotEvery: 50, frameTimeoutMs: 10_000, maxDeltaBytes: 16_777_216 };

/**
 * A deterministic simulation engine on a framelog store. Each frame, each shard's `tick` sees the
 * state after the frame before and returns a delta; the deltas go through the same merge engine
 * and journals as any writer's, with a logical clock, so the journal is the truth and the state
 * a projection you can rebuild at any frame, diff, replay, rewind and fork.
 */
export class Engine<P extends JsonObject = JsonObject> extends RunView {
  /** What makes the run reproducible (`run.json`). */
  readonly manifest: RunManifest;
  readonly dir: string;
  private readonly clock: LogicalClock;

  constructor(private readonly opts: EngineOptions<P>) {
    const shards = opts.shards ?? 1;
    if (!Number.isSafeInteger(shards) || shards < 1 || shards > 4096) throw new FramelogError(`shards ${shards}: must be an integer from 1 to 4096`, 'bad-argument');
    if (typeof opts.tick !== 'function') throw new FramelogError('tick: must be a function (ctx, state, frame) => delta', 'bad-argument');
    if ((opts.workers ?? 0) > 0 && !opts.module) throw new FramelogError('workers: needs module (the file exporting the simulation, for the worker processes to import)', 'bad-argument');
    const clock = logicalClock(opts.start, opts.stepMs);
    const manifest: RunManifest = {
      version: 1, name: opts.name, seed: opts.seed, shards, params: (opts.params ?? {}) as JsonObject,
      clock: { start: clock.startUtc, stepMs: clock.stepMs }, parent: null,
    };
    const ctx = Engine.openOrCreate(opts, manifest);
    super(ctx);
    this.dir = opts.dir;
    this.clock = clock;
    this.manifest = readRunManifest(opts.dir) ?? manifest;
  }

  private static openOrCreate(opts: { dir: string; plan?: Partial<Plan> }, manifest: RunManifest): StoreContext {
    const dir = opts.dir;
    if (existsSync(`${dir}/framelog.json`)) {
      const have = readRunManifest(dir);
      if (!have) throw new FramelogError(`${dir}: a framelog store, but not a simulation run (no run.json): give a new dir`, 'other-run');
      checkSameRun(dir, have, manifest);
      return openStoreContext(dir);
    }
    const writers = Array.from({ length: manifest.shards }, (_, k) => shardName(k));
    const ctx = initStore(dir, { ...ENGINE_PLAN, ...(opts.plan ?? {}), writers });
    writeRunManifest(dir, manifest);
    return ctx;
  }

  /** The last frame closed, or null before frame 0. */
  get lastFrame(): number | null {
    // The journal index: the last record's frame without reading the journal.
    const idx = openJournalIndex(this.ctx);
    try {
      return idx.count > 0 ? idx.frameAt(idx.count - 1) : null;
    } finally {
      idx.close();
    }
  }

  /** Runs `frames` more frames (a new run first closes frame 0, the initial state: `run(500)` ends at frame 500). */
  async run(frames: number, hooks: RunHooks = {}): Promise<RunTotals> {
    if (!Number.isSafeInteger(frames) || frames < 0) throw new FramelogError(`run(${frames}): frames must be an integer ≥ 0`, 'bad-argument');
    const last = this.lastFrame;
    return this.runUntil(last === null ? frames : last + frames, hooks);
  }

  /** Runs until frame `frame` has closed. */
  async runUntil(frame: number, hooks: RunHooks = {}): Promise<RunTotals> {
    const totals = emptyTotals();
    const merger = openMergerOn(this.ctx);
    const m = this.manifest;
    let host: ShardHost | undefined;
    try {
      const from = merger.state.frame === null ? 0 : merger.state.frame + 1;
      if (from > frame) return totals;
      if ((this.opts.workers ?? 0) > 0) {
        host = await ShardHost.start({
          dir: resolve(this.dir), module: this.opts.module!, exportName: this.opts.exportName ?? 'default', seed: String(m.seed), params: m.params,
          shards: m.shards, start: m.clock.start, stepMs: m.clock.stepMs, wallTime: this.opts.wallTime ?? false,
          workers: this.opts.workers!, frameTimeoutMs: this.opts.frameTimeoutMs ?? this.ctx.plan.frameTimeoutMs, onWorker: hooks.onWorker,
        });
      }
      const loop = { ctx: this.ctx, merger, sim: this.opts as unknown as Simulation, seed: String(m.seed), params: m.params, shards: m.shards, clock: this.clock, wallTime: this.opts.wallTime ?? false, host };
      await runFrames(loop, from, frame, { ...hooks, onMerge: (r) => { addRecord(totals, r); hooks.onMerge?.(r); } });
    } finally {
      try {
        await host?.stop();
      } finally {
        merger.close();
      }
    }
    return totals;
  }

  /** A read-only view of the run as it was at `frame`: history is never truncated. */
  rewind(frame: number): RunView {
    if (!Number.isSafeInteger(frame) || frame < 0) throw new FramelogError(`rewind(${frame}): not a frame number`, 'bad-argument');
    return new RunView(this.ctx, frame);
  }

  /**
   * A new run that shares frames 0 … `frame` with this one (copied byte for byte into its own
   * folder) and goes on from there with a new seed or changed parameters. This run is unchanged;
   * the fork's `run.json` names it as the parent.
   */
  fork(frame: number, o: ForkOptions<P>): Engine<P> {
    if (!Number.isSafeInteger(frame) || frame < 0) throw new FramelogError(`fork(${frame}): not a frame number`, 'bad-argument');
    const records = readMergeRecords(this.ctx);
    const i = lastRecordAtOrBelow(records, frame);
    if (i < 0) throw new FramelogError(`fork(${frame}): no frame at or below ${frame} has closed yet`, 'bad-argument');
    if (frame > records[records.length - 1].value.frame) throw new FramelogError(`fork(${frame}): the run has only reached frame ${records[records.length - 1].value.frame}`, 'bad-argument');
    forkStore(this.dir, o.dir, frame);
    const m = this.manifest;
    const parent = { name: m.name, seed: m.seed, dir: this.dir, frame, record_sha256: lineHash(records[i].text), state_sha256: records[i].value.state_sha256 ?? stateSha256(loadStateAt(this.ctx, frame)) };
    const params = { ...m.params, ...(o.params ?? {}) } as P;
    writeRunManifest(o.dir, { ...m, name: o.name ?? m.name, seed: o.seed ?? m.seed, params, parent });
    return new Engine<P>({ ...this.opts, dir: o.dir, seed: o.seed ?? m.seed, name: o.name ?? m.name, params, start: m.clock.start, stepMs: m.clock.stepMs, shards: m.shards, workers: o.workers ?? this.opts.workers });
  }

  /** Recomputes every merge from the archive (see `framelog verify`). */
  async verify(): Promise<VerifyReport> {
    return verifyStore(this.ctx);
  }

  /** SHA-256 of every file of the store: equal for two runs of the same name, seed and code. */
  fingerprint(): StoreFingerprint {
    return storeFingerprint(this.dir);
  }
}
