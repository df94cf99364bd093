import { describe, expect, it } from 'vitest';
import { natsUnderTestWith } from '../nats/natsUnderTest.js';
import { postgresUnderTest } from '../postgres/postgresUnderTest.js';
import { redisUnderTest } from '../redis/redisUnderTest.js';
import { kafkaUnderTest } from '../kafka/kafkaUnderTest.js';
import { runEquivalence, type TransportUnderTest } from './equivalence.js';
import { serviceForTests } from './services.js';
import { fsUnderTest, gitUnderTest } from './transportsUnderTest.js';
import { generateWorkload } from './workload.js';

// Each engine joins when its service answers (under CI=true a missing one fails here). Git takes
// the same harness at 200 deltas (equivalence.int.spec.ts) and its own tests: at 10,000 its leg
// alone took 217 s of this file's 405 s on a loaded 2-core machine (a push per put, and a fetch of
// the merger's commits before each), more than the other five engines together; run it here with
// FRAMELOG_EQUIVALENCE_GIT=1.
const transports: TransportUnderTest[] = [fsUnderTest];
if (process.env.FRAMELOG_EQUIVALENCE_GIT === '1') transports.push(gitUnderTest);
if (await serviceForTests('postgres')) transports.push(postgresUnderTest);
if (await serviceForTests('redis')) transports.push(redisUnderTest);
// JetStream with its default 2-minute duplicate window: a copy put again after its merge is
// absorbed by the server (answered duplicate), so the harness leaves those copies out and checks
// that each was answered duplicate at put.
if (await serviceForTests('nats')) transports.push({ ...natsUnderTestWith({}, 'nats'), absorbsRedeliveries: true });
if (await serviceForTests('kafka')) transports.push(kafkaUnderTest);

describe('every transport gives the same store', () => {
  it(`10,000 deltas, 8 writers, 100 frames through ${transports.map((t) => t.name).join(', ')}: identical state at every frame, records and journals`, async () => {
    const workload = generateWorkload({ writers: 8, frames: 100, deltas: 10_000, rounds: 20, seed: 11 });
    expect(workload.counts.total).toBeGreaterThanOrEqual(10_000);
    // Writers put one after another within a round here (the contention of concurrent pushes is the 8-process test's job).
    // The longest the worker's event loop stood still (vitest's runner gives up on a worker silent for 60 s).
    let last = performance.now(), stalled = 0;
    const lag = setInterval(() => {
      const now = performance.now();
      stalled = Math.max(stalled, now - last);
      last = now;
    }, 100);
    const report = await runEquivalence({ transports, workload, concurrentWriters: false }).finally(() => clearInterval(lag));
    console.log(`longest event-loop stall: ${Math.round(stalled)} ms`);
    console.log(JSON.stringify({ counts: workload.counts, runs: report.runs.map((r) => ({ name: r.name, seconds: r.seconds, put: r.putSeconds, merge: r.mergeSeconds, merges: r.merges, putDuplicates: r.putDuplicates, conflicts: r.digest.conflicts.length, quarantined: r.digest.quarantine.length })) }));
    expect(report.differences).toEqual([]);
    for (const r of report.runs) expect(r.digest.verify).toBe(true);
    const records = report.runs[0].digest.records as Array<{ late: unknown[]; duplicates: unknown[]; fallback: unknown[] }>;
    expect(records.some((r) => r.late.length > 0)).toBe(true);
    expect(records.some((r) => r.duplicates.length > 0)).toBe(true);
    expect(records.some((r) => r.fallback.length > 0)).toBe(true);
    const kinds = new Set((report.runs[0].digest.conflicts as Array<{ kind: string }>).map((c) => c.kind));
    expect([...kinds].sort()).toEqual(['delta', 'field', 'item']);
    expect(report.runs[0].digest.quarantine.length).toBe(workload.counts.bad);
  }, 600_000);
});
