// A simulation on framelog, to copy: run the evolution demo's simulation with the library,
// then compute the cladogram from the event stream and rewind, diff and fork the run.
//   node examples/evolution/run.mjs [dir]      (in a project that has `npm install framelog`)
import { Engine } from 'framelog';
import { evolutionSimulation, exportCladogram } from 'framelog/demos';

const dir = process.argv[2] ?? '.framelog-example-evolution';
const engine = new Engine({
  ...evolutionSimulation,
  dir,
  seed: 42,
  shards: 8,
  params: { ...evolutionSimulation.params, size: 500 },
  // Host the 8 shards on 2 worker processes: the result is the same for any number.
  workers: 2,
  // The worker processes import the simulation from this module, under this export's name.
  module: import.meta.resolve('framelog/demos'),
  exportName: 'evolutionSimulation',
});
const totals = await engine.run(200);
console.log(`frames 0…${totals.last}: ${totals.deltas} deltas, state ${totals.state_sha256}`);

const { cladogram, svg } = await exportCladogram(engine, `${dir}/views/evolution`);
console.log(`${cladogram.nodes.length} species; picture: ${svg}`);

const then = await engine.rewind(120).stateAt();               // read-only: nothing is truncated
console.log('births by frame 120:', then.counters.births);
const changes = await engine.diff(119, 120);
console.log('what frame 120 changed:', Object.keys(changes));
const fork = engine.fork(120, { dir: `${dir}-fork`, seed: 43, params: { mutationRate: 0.2 } });
await fork.run(80);                                             // frames 0–120 shared, 121… its own
console.log('fork parent:', fork.manifest.parent);
