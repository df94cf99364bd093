/**
 * The simulation engine: a simulation's `tick` returns a delta per shard per frame; the deltas
 * go through the merge engine and journals like any writer's, under a logical clock, so a run is
 * reproducible byte for byte, and can be replayed, diffed, rewound and forked.
 * @packageDocumentation
 */
export * from './rng/index.js';
export * from './clock/index.js';
export * from './simulation/index.js';
export * from './tick/index.js';
export * from './run/index.js';
export * from './shard/index.js';
