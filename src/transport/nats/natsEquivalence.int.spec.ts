import { describe, expect, it } from 'vitest';
import { runEquivalence } from '../testing/equivalence.js';
import { serviceForTests } from '../testing/services.js';
import { fsUnderTest } from '../testing/transportsUnderTest.js';
import { generateWorkload } from '../testing/workload.js';
import { natsUnderTest, natsUnderTestWith } from './natsUnderTest.js';

const ok = await serviceForTests('nats');

describe.skipIf(!ok)('nats transport equivalence', () => {
  it('gives the same store as the fs inbox (duplicates, conflicts, late and bad deltas, concurrent writers)', async () => {
    const workload = generateWorkload({ writers: 5, frames: 20, deltas: 800, rounds: 6, seed: 5 });
    const report = await runEquivalence({ transports: [fsUnderTest, natsUnderTest], workload });
    console.log(report.runs.map((r) => `${r.name}: ${r.seconds.toFixed(1)} s (put ${r.putSeconds.toFixed(2)} s, merge ${r.mergeSeconds.toFixed(1)} s, ${r.merges} merges)`).join('; '), workload.counts);
    expect(report.differences).toEqual([]);
    expect(report.runs[1].digest.verify).toBe(true);
    expect(report.runs[1].digest.quarantine.length).toBeGreaterThan(0);
  }, 60_000);

  it('with the default duplicate window, copies put again after their merge are absorbed: the merge records list fewer duplicates, nothing else differs', async () => {
    const workload = generateWorkload({ writers: 3, frames: 12, deltas: 300, rounds: 4, seed: 9 });
    const report = await runEquivalence({ transports: [fsUnderTest, natsUnderTestWith({}, 'nats-default-window')], workload });
    const [fs, nats] = report.runs.map((r) => r.digest);
    const dups = (d: typeof fs) => (d.records as Array<{ duplicates: unknown[] }>).reduce((a, r) => a + r.duplicates.length, 0);
    console.log(`duplicates recorded: fs ${dups(fs)}, nats (2 min window) ${dups(nats)}`);
    expect(dups(nats)).toBeLessThan(dups(fs));
    const strip = (d: typeof fs) => ({ ...d, records: (d.records as Array<Record<string, unknown>>).map(({ duplicates: _d, archive_sha256: _a, ...rest }) => rest), archives: undefined });
    expect(strip(nats)).toEqual(strip(fs));
  }, 60_000);
});
