import { describe, expect, it } from 'vitest';
import { runEquivalence } from '../testing/equivalence.js';
import { serviceForTests } from '../testing/services.js';
import { fsUnderTest } from '../testing/transportsUnderTest.js';
import { generateWorkload } from '../testing/workload.js';
import { kafkaUnderTest } from './kafkaUnderTest.js';

const ok = await serviceForTests('kafka');

describe.skipIf(!ok)('kafka transport equivalence', () => {
  it('gives the same store as the fs inbox (duplicates, conflicts, late and bad deltas, concurrent writers)', async () => {
    const workload = generateWorkload({ writers: 5, frames: 20, deltas: 800, rounds: 6, seed: 5 });
    const report = await runEquivalence({ transports: [fsUnderTest, kafkaUnderTest], workload });
    console.log(report.runs.map((r) => `${r.name}: ${r.seconds.toFixed(1)} s (put ${r.putSeconds.toFixed(2)} s, merge ${r.mergeSeconds.toFixed(1)} s, ${r.merges} merges)`).join('; '), workload.counts);
    expect(report.differences).toEqual([]);
    expect(report.runs[1].digest.verify).toBe(true);
    expect(report.runs[1].digest.quarantine.length).toBeGreaterThan(0);
  }, 120_000);
});
