export type { Simulation, TickFn, InitFn, InitialState, DeltaOps } from './Simulation.js';
