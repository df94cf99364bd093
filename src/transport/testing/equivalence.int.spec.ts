import { describe, expect, it } from 'vitest';
import { runEquivalence } from './equivalence.js';
import { fsUnderTest, gitUnderTest } from './transportsUnderTest.js';
import { generateWorkload } from './workload.js';

describe('equivalence harness', () => {
  it('fs and git give identical stores on a small workload', async () => {
    const workload = generateWorkload({ writers: 3, frames: 10, deltas: 200, rounds: 5, seed: 3 });
    const report = await runEquivalence({ transports: [fsUnderTest, gitUnderTest], workload, root: process.env.EQ_ROOT });
    console.log(JSON.stringify(report.runs.map((r) => ({ name: r.name, seconds: r.seconds, merges: r.merges, put: r.putSeconds, merge: r.mergeSeconds, verify: r.digest.verify, q: r.digest.quarantine }))), workload.counts);
    expect(report.differences).toEqual([]);
    expect(report.runs[0].digest.verify).toBe(true);
  });
});
