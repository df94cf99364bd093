import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimulationDemo } from '../runSimulationDemo.js';
import { ecosystemSimulation, type EcosystemParams } from './ecosystemSimulation.js';
import { migrationLog } from './migrationLog.js';
import { populationSeries, reconcileWithEvents, seriesCsv } from './populationSeries.js';

/** `framelog demo ecosystem`: the run, then the migration log and the population series. */
export const ecosystemDemo: SimulationDemo<EcosystemParams> = {
  name: 'ecosystem',
  sim: ecosystemSimulation,
  module: new URL('./ecosystemSimulation.js', import.meta.url),
  params: (o) => ({ ...ecosystemSimulation.params!, regions: o.size }),
  async after(engine, o) {
    const out = join(o.dir, 'views', 'ecosystem');
    mkdirSync(out, { recursive: true });
    const events = await engine.events();
    const log = migrationLog(events);
    const series = await populationSeries(engine);
    const files = { migrations: join(out, 'migrations.ndjson'), series: join(out, 'populations.csv'), series_json: join(out, 'populations.json') };
    writeFileSync(files.migrations, log.map((m) => JSON.stringify(m) + '\n').join(''));
    writeFileSync(files.series, seriesCsv(series));
    writeFileSync(files.series_json, JSON.stringify(series) + '\n');
    const state = await engine.stateAt();
    const fault = reconcileWithEvents(series, events);
    const last = series.frames.length - 1;
    const total = (sp: string): number => series.regions.reduce((s, r) => s + series.series[r][sp][last], 0);
    const crossShard = log.filter((m) => engine.manifest.shards > 1 && Number(m.origin.slice(1)) % engine.manifest.shards !== Number(m.destination.slice(1)) % engine.manifest.shards).length;
    const figures = {
      migrations: log.length, migrants: state.counters.migrants ?? 0, migration_cost: Math.round((state.counters.migration_cost ?? 0) * 100) / 100,
      cross_shard: crossShard, grass: total('grass'), rabbits: total('rabbit'), foxes: total('fox'), events_reconcile: fault ?? 'yes',
    };
    return {
      exports: { migrations: files.migrations, 'series csv': files.series, 'series json': files.series_json },
      figures,
      lines: [
        `migrations  ${log.length} (${crossShard} across shards), ${figures.migrants} animals, cost ${figures.migration_cost}`,
        `population  ${figures.grass} grass, ${figures.rabbits} rabbits, ${figures.foxes} foxes in ${series.regions.length} regions`,
        `reconcile   ${fault ? 'FAILED: ' + fault : 'every count equals seeded + births − deaths ± migrations from the event log'}`,
      ],
    };
  },
};
