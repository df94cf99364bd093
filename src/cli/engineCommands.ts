import type { Command } from 'commander';
import { printSummary, type DemoOptions, type DemoSummary } from '../engine/demos/demoSupport.js';
import { runSimulationDemo, type SimulationDemo } from '../engine/demos/runSimulationDemo.js';
import { seedAsGiven } from '../engine/run/runManifest.js';
import { evolutionDemo } from '../engine/demos/evolution/evolutionDemo.js';
import { ecosystemDemo } from '../engine/demos/ecosystem/ecosystemDemo.js';
import type { JsonObject } from '../delta/types.js';
import { parseCount } from './output.js';

/** The engine demos, their defaults, and one line on what each shows. */
export const ENGINE_DEMOS: Record<string, { about: string; frames: number; size: number; workers: number; shards: number; sizeIs: string }> = {
  evolution: { about: 'a population over generations; the cladogram from the delta stream (JSON, Newick, SVG)', frames: 300, size: 1000, workers: 2, shards: 8, sizeIs: 'organisms' },
  ecosystem: { about: 'regions and species; migrations as events; per-region population series', frames: 300, size: 24, workers: 2, shards: 8, sizeIs: 'regions' },
  fleet: { about: 'agent processes call a (simulated) model, crash and run late; streams; vs a naive shared file', frames: 40, size: 320, workers: 6, shards: 6, sizeIs: 'work items' },
};

/** Adds the engine demos' options to `framelog demo` (`--workers`, `--size`, `--shards`). */
export function addEngineDemoOptions(cmd: Command): Command {
  return cmd
    .option('--workers <n>', 'engine demos: worker processes (evolution, ecosystem: shard hosts; fleet: agents)')
    .option('--size <n>', 'engine demos: organisms (evolution), regions (ecosystem), work items (fleet)')
    .option('--shards <n>', 'engine demos: logical shards, fixed by the run (default 8)');
}

/** True when `name` is an engine demo (`framelog demo evolution|ecosystem|fleet`). */
export const isEngineDemo = (name: string | undefined): name is string => name !== undefined && name in ENGINE_DEMOS;

/** Reads the demo options, filling in the demo's defaults where the user gave none. */
function demoOptions(name: string, o: Record<string, string | boolean | undefined>, cmd: Command): DemoOptions {
  const d = ENGINE_DEMOS[name];
  const given = (k: string): string | undefined => (cmd.getOptionValueSource(k) === 'default' ? undefined : (o[k] as string | undefined));
  const num = (k: string, fallback: number, min: number): number => {
    const text = given(k);
    if (text === undefined) return fallback;
    return parseCount(text, `--${k}`, min);
  };
  const workers = num('workers', d.workers, name === 'fleet' ? 1 : 0);
  return {
    frames: num('frames', d.frames, 1), size: num('size', d.size, 1), workers,
    shards: name === 'fleet' ? workers : num('shards', d.shards, 1),
    seed: seedAsGiven(given('seed') ?? '1'), dir: given('dir') ?? `.framelog-demo-${name}`, json: Boolean(o.json),
  };
}

/** Runs `framelog demo NAME` for an engine demo and prints its summary. */
export async function runEngineDemo(name: string, o: Record<string, string | boolean | undefined>, cmd: Command): Promise<void> {
  const opts = demoOptions(name, o, cmd);
  let summary: DemoSummary, lines: string[];
  if (name === 'fleet') {
    const { runFleetDemo } = await import('../engine/demos/fleet/runFleetDemo.js');
    ({ summary, lines } = await runFleetDemo(opts));
  } else {
    const demo = (name === 'evolution' ? evolutionDemo : ecosystemDemo) as unknown as SimulationDemo<JsonObject>;
    ({ summary, lines } = await runSimulationDemo(demo, opts));
  }
  if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else printSummary(summary, lines, nextCommands(name, opts));
  if (!summary.verify) process.exitCode = 1;
}

function nextCommands(name: string, o: DemoOptions): string[] {
  const d = o.dir, mid = Math.floor(o.frames / 2);
  const common = [
    `framelog log --dir ${d} | jq -c '{frame, applied: (.applied|length), fallback, missing, late: (.late|length)}' | tail -3`,
    `framelog diff ${mid} ${mid + 1} --dir ${d}`,
    `framelog state --at ${mid} --dir ${d} | jq '.counters'`,
    `framelog verify --dir ${d}`,
  ];
  const rerun = `framelog demo ${name} --seed ${o.seed} --workers ${name === 'fleet' ? o.workers : o.workers === 1 ? 4 : 1} --dir ${d}-again --json | jq .store_sha256   # same seed, same store`;
  if (name === 'evolution') return [`framelog events --dir ${d} --type speciation | head -3`, `xdg-open ${d}/views/evolution/cladogram.svg`, ...common, rerun];
  if (name === 'ecosystem') return [`framelog events --dir ${d} --type migration | head -3`, `head ${d}/views/ecosystem/populations.csv`, ...common, rerun];
  return [`framelog read receipts --dir ${d} | head -3`, `framelog read audit --dir ${d} | jq -c 'select(.decision=="reject")' | head -3`, `framelog read register --dir ${d}`, `framelog conflicts --dir ${d} | head -3`, ...common];
}

/** Registers the engine's hidden helper commands (the fleet's agent and naive processes). */
export function registerEngineCommands(program: Command): void {
  program.command('_fleet-agent', { hidden: true }).argument('<json>').action(async (json: string) => {
    const { runFleetAgent } = await import('../engine/demos/fleet/fleetAgent.js');
    await runFleetAgent(JSON.parse(json));
  });
  program.command('_fleet-naive', { hidden: true }).argument('<json>').action(async (json: string) => {
    const { runNaiveWorker } = await import('../engine/demos/fleet/naiveSharedFile.js');
    await runNaiveWorker(JSON.parse(json));
  });
}
