import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'examples/**/*.spec.ts', 'viewer/**/*.spec.ts'],
    // Tests that load the machine for minutes (the 3-broker Kafka cluster) run afterwards, alone:
    // vitest.alone.config.ts, the second half of npm test.
    exclude: ['**/node_modules/**', '**/*.alone.int.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at once even on a 2-core machine (vitest's default there is one): most long tests
    // wait on child processes, services and timers, not on the CPU.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
