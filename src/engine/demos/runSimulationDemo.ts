import type { JsonObject } from '../../delta/types.js';
import { Engine } from '../run/Engine.js';
import type { Simulation } from '../simulation/Simulation.js';
import { finalStateSha256, freshDemoDir, markDemoDir, mergeProgress, type DemoOptions, type DemoSummary } from './demoSupport.js';

/** How one engine demo is set up and what it exports after the run. */
export interface SimulationDemo<P extends JsonObject> {
  name: string;
  sim: Simulation<P>;
  /** The module exporting `sim` (for the worker processes). */
  module: URL;
  /** The run's parameters from the demo options. */
  params(o: DemoOptions): P;
  /** Exports files and figures once the run is over. */
  after(engine: Engine<P>, o: DemoOptions): Promise<{ exports: Record<string, string>; figures: Record<string, number | string>; lines: string[] }>;
}

/**
 * Runs an engine demo end to end: a fresh store in `o.dir`, S shards on W worker processes, a
 * progress bar, then verify, the demo's exports and the summary (printing is the caller's).
 */
export async function runSimulationDemo<P extends JsonObject>(demo: SimulationDemo<P>, o: DemoOptions): Promise<{ summary: DemoSummary; lines: string[]; engine: Engine<P> }> {
  freshDemoDir(o.dir);
  const started = Date.now();
  const engine = new Engine<P>({ ...demo.sim, dir: o.dir, seed: o.seed, shards: o.shards, params: demo.params(o), workers: o.workers, module: demo.module });
  markDemoDir(o.dir);
  const progress = mergeProgress(demo.name, o.frames, o.json);
  try {
    await engine.run(o.frames, { onMerge: progress.onMerge });
  } finally {
    progress.stop();
  }
  const report = await engine.verify();
  const extra = await demo.after(engine, o);
  const summary: DemoSummary = {
    demo: demo.name, dir: o.dir, frames: o.frames, shards: o.shards, workers: o.workers, size: o.size, seed: o.seed,
    seconds: (Date.now() - started) / 1000, ...progress.totals, state_sha256: finalStateSha256(o.dir),
    store_sha256: engine.fingerprint().sha256, verify: report.ok, exports: extra.exports, figures: extra.figures,
  };
  return { summary, lines: extra.lines, engine };
}
