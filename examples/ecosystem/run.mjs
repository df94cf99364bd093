// Regions and species on framelog, to copy: run the ecosystem simulation, then read the
// migration log (the events of type "migration") and export the per-region population series.
//   node examples/ecosystem/run.mjs [dir]      (in a project that has `npm install framelog`)
import { writeFileSync } from 'node:fs';
import { Engine } from 'framelog';
import { ecosystemSimulation, migrationLog, populationSeries, seriesCsv, reconcileWithEvents } from 'framelog/demos';

const dir = process.argv[2] ?? '.framelog-example-ecosystem';
const engine = new Engine({ ...ecosystemSimulation, dir, seed: 7, shards: 8, params: { ...ecosystemSimulation.params, regions: 16 } });
await engine.run(150);

const events = await engine.events();                            // or: framelog events --type migration
const log = migrationLog(events);
console.log(`${log.length} migrations; first:`, log[0]);
const series = await populationSeries(engine);                   // one replay over the history
writeFileSync(`${dir}/populations.csv`, seriesCsv(series));
console.log('reconciles with the event log:', reconcileWithEvents(series, events) ?? 'yes');
