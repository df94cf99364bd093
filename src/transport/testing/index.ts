export { runEquivalence, digestStore, compareDigests, type EquivalenceOptions, type EquivalenceReport, type TransportUnderTest, type OpenedTransport, type StoreDigest, type TransportRun } from './equivalence.js';
export { generateWorkload, shuffle, type Workload, type WorkloadDelta, type WorkloadOptions } from './workload.js';
export { fsUnderTest, gitUnderTest } from './transportsUnderTest.js';
export { SERVICES, SERVICE_URLS, answers, serviceForTests, type Service } from './services.js';
export { withoutRedeliveries } from './equivalence.js';
export { runMergerFailover, type FailoverOptions, type FailoverReport, type MergerLife } from './mergerFailover.js';
export { postgresUnderTest } from '../postgres/postgresUnderTest.js';
export { redisUnderTest } from '../redis/redisUnderTest.js';
export { natsUnderTest, natsUnderTestWith } from '../nats/natsUnderTest.js';
