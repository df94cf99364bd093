/**
 * The parts of the one merger loop every transport runs (`runTransportMerger` composes them):
 * the retry policy, the lease (take, sync, release), the pipeline (pull → land → merge → publish →
 * acknowledge → trim) and the watch loop.
 */
export { createMergerRetry, type MergerRetry } from './mergerRetry.js';
export { takeMergerLease, syncLeaseHolder, releaseMergerLease, throwLeaseLost, type MergerLeaseOptions } from './mergerLease.js';
export { createMergerPipeline, type MergerPipeline, type MergerPipelineOptions } from './mergerPipeline.js';
export { watchMergerLoop, type WatchLoopOptions } from './watchMergerLoop.js';
