export { runEquivalence, digestStore, compareDigests, type EquivalenceOptions, type EquivalenceReport, type TransportUnderTest, type OpenedTransport, type StoreDigest, type TransportRun } from './equivalence.js';
export { generateWorkload, shuffle, type Workload, type WorkloadDelta, type WorkloadOptions } from './workload.js';
export { fsUnderTest, gitUnderTest } from './transportsUnderTest.js';
