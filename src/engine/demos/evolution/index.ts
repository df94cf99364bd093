export { evolutionSimulation, optimum, slotField, islandOrganisms, type EvolutionParams, type Organism, type Island, type SpeciesRecord } from './evolutionSimulation.js';
export { cladogramFromEvents, cladogramFromState, childrenOf, toNewick, type Cladogram, type CladeNode } from './cladogram.js';
export { cladogramSvg } from './cladogramSvg.js';
export { exportCladogram, type CladogramFiles } from './exportCladogram.js';
export { evolutionDemo } from './evolutionDemo.js';
