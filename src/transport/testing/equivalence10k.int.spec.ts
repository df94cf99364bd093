import { describe, expect, it } from 'vitest';
import { runEquivalence } from './equivalence.js';
import { fsUnderTest, gitUnderTest } from './transportsUnderTest.js';
import { generateWorkload } from './workload.js';

describe('fs and git are equivalent', () => {
  it('10,000 deltas, 8 writers, 100 frames: identical state at every frame, records and journals', async () => {
    const workload = generateWorkload({ writers: 8, frames: 100, deltas: 10_000, rounds: 20, seed: 11 });
    expect(workload.counts.total).toBeGreaterThanOrEqual(10_000);
    // Writers put one after another within a round here (the contention of concurrent pushes is the 8-process test's job).
    const report = await runEquivalence({ transports: [fsUnderTest, gitUnderTest], workload, concurrentWriters: false });
    console.log(JSON.stringify({ counts: workload.counts, runs: report.runs.map((r) => ({ name: r.name, seconds: r.seconds, put: r.putSeconds, merge: r.mergeSeconds, merges: r.merges, conflicts: r.digest.conflicts.length, quarantined: r.digest.quarantine.length })) }));
    expect(report.differences).toEqual([]);
    for (const r of report.runs) expect(r.digest.verify).toBe(true);
    const records = report.runs[0].digest.records as Array<{ late: unknown[]; duplicates: unknown[]; fallback: unknown[] }>;
    expect(records.some((r) => r.late.length > 0)).toBe(true);
    expect(records.some((r) => r.duplicates.length > 0)).toBe(true);
    expect(records.some((r) => r.fallback.length > 0)).toBe(true);
    const kinds = new Set((report.runs[0].digest.conflicts as Array<{ kind: string }>).map((c) => c.kind));
    expect([...kinds].sort()).toEqual(['delta', 'field', 'item']);
    expect(report.runs[0].digest.quarantine.length).toBe(workload.counts.bad);
  }, 400_000);
});
