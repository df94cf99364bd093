export { ecosystemSimulation, neighbours, regionName, popCounter, SPECIES, type EcosystemParams, type Species } from './ecosystemSimulation.js';
export { migrationLog, type Migration } from './migrationLog.js';
export { populationSeries, seriesCsv, reconcileWithEvents, type PopulationSeries } from './populationSeries.js';
export { ecosystemDemo } from './ecosystemDemo.js';
