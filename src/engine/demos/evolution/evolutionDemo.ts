import { join } from 'node:path';
import { cladogramFromState } from './cladogram.js';
import { evolutionSimulation, type EvolutionParams } from './evolutionSimulation.js';
import { exportCladogram } from './exportCladogram.js';
import type { SimulationDemo } from '../runSimulationDemo.js';

/** `framelog demo evolution`: the run, then the cladogram computed from the event stream. */
export const evolutionDemo: SimulationDemo<EvolutionParams> = {
  name: 'evolution',
  sim: evolutionSimulation,
  module: new URL('./evolutionSimulation.js', import.meta.url),
  params: (o) => ({ ...evolutionSimulation.params!, size: o.size }),
  async after(engine, o) {
    const out = join(o.dir, 'views', 'evolution');
    const c = await exportCladogram(engine, out);
    const recorded = cladogramFromState(await engine.stateAt(), c.cladogram.lastFrame);
    const same = JSON.stringify(recorded.nodes.map(({ births, deaths, ...n }) => n)) === JSON.stringify(c.cladogram.nodes.map(({ births, deaths, ...n }) => n));
    const state = await engine.stateAt();
    const extant = c.cladogram.nodes.filter((n) => n.extinct === null).length;
    const figures = {
      species: c.cladogram.nodes.length, extant, births: state.counters.births ?? 0, deaths: state.counters.deaths ?? 0,
      mutations: state.counters.mutations ?? 0, cladogram_matches_state: same ? 'yes' : 'NO',
    };
    return {
      exports: { cladogram: c.json, newick: c.newick, picture: c.svg },
      figures,
      lines: [
        `population  ${figures.births} births, ${figures.deaths} deaths, ${figures.mutations} mutations`,
        `species     ${figures.species} (${extant} extant); cladogram from the event stream ${same ? 'equals' : 'DIFFERS FROM'} the lineage the simulation recorded`,
      ],
    };
  },
};
