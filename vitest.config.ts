import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'examples/**/*.spec.ts', 'viewer/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at once even on a 2-core machine (vitest's default there is one): most long tests
    // wait on child processes, services and timers, not on the CPU.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
