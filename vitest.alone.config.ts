import { defineConfig } from 'vitest/config';

// The second half of `npm test`: tests that load the machine for minutes (the 3-broker Kafka
// cluster: three JVMs), one file at a time after the others, so that the timing-sensitive tests of
// the first half (failover takeovers, crash loops) never share the machine with them.
export default defineConfig({
  test: {
    include: ['src/**/*.alone.int.spec.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
  },
});
