/**
 * `framelog/demos`: the simulations behind `framelog demo` (evolution, ecosystem, fleet), to run,
 * read and copy from.
 * @packageDocumentation
 */
export * from './evolution/index.js';
export * from './ecosystem/index.js';
export * from './fleet/index.js';
export { runSimulationDemo, type SimulationDemo } from './runSimulationDemo.js';
