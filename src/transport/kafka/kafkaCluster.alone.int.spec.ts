import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLog } from '../../store/history/journalQueries.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import { initStore } from '../../store/storeContext.js';
import { runTransportMerger } from '../runTransportMerger.js';
import { serviceForTests } from '../testing/services.js';
import { kafkaBrokers } from './kafkaNames.js';
import { createAdmin, createKafka } from './kafkaClient.js';
import { openKafkaTransport, type KafkaTransport } from './kafkaTransport.js';
import { startKafkaCluster, type KafkaCluster } from './testing/kafkaCluster.js';

const ok = await serviceForTests('kafka'); // the cluster runs its own brokers, but needs what the service needs (Java, the jars)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cluster: KafkaCluster | undefined;
const dir = mkdtempSync(join(tmpdir(), 'framelog-kafka-cluster-store-'));
const open: KafkaTransport[] = [];
beforeAll(() => {
  if (ok) cluster = startKafkaCluster();
}, 300_000);
afterAll(async () => {
  for (const t of open) await t.close().catch(() => undefined);
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ok)('kafka transport on a 3-broker KRaft cluster (replication 3, min.insync.replicas 2)', () => {
  it('writers and a watch-mode merger keep going through a SIGKILL of the partition leader and its restart; every acknowledged put is applied exactly once', async () => {
    const c = cluster!;
    const store = `cl-${process.pid}-${Date.now().toString(36)}`;
    const writers = ['w0', 'w1', 'w2', 'w3'];
    const frames = 40;
    const merger = await openKafkaTransport({ url: c.url, store, replicas: 3 });
    open.push(merger);
    const admin = await createAdmin(await createKafka('cluster-test', kafkaBrokers(c.url)));
    const meta = await admin.fetchTopicMetadata({ topics: [merger.names.deltas] });
    const partition = meta.topics[0].partitions[0];
    expect(partition.replicas).toHaveLength(3);
    const ctx = initStore(join(dir, store), { writers, frameTimeoutMs: 1500 });

    let mergedThrough = 0;
    const transportErrors: string[] = [];
    const abort = new AbortController();
    const loop = runTransportMerger(ctx, merger, {
      watch: true, signal: abort.signal, pollMs: 100, leaseTtlMs: 6000,
      onMerge: (r) => (mergedThrough = Math.max(mergedThrough, r.frame)),
      onTransportError: (e) => transportErrors.push((e as Error).message),
    });
    const acked = new Set<string>();
    let putFailures = 0;
    let progress = 0;
    const write = async (w: string): Promise<void> => {
      const t = await openKafkaTransport({ url: c.url, store });
      open.push(t);
      for (let f = 1; f <= frames; f++) {
        const bytes = Buffer.from(JSON.stringify({ frame: f, writer: w, seq: 0, utc: new Date(Date.UTC(2026, 0, 1) + f * 1000).toISOString(), counters: { n: 1 } }));
        for (;;) {
          try {
            await t.put([bytes]);
            acked.add(`${f}/${w}/0`);
            break;
          } catch {
            putFailures++;
            await sleep(300); // the same bytes again: a copy that did land is a duplicate for the merger
          }
        }
        progress = Math.max(progress, f);
        await sleep(80);
      }
    };
    const writing = Promise.all(writers.map(write));
    while (progress < frames / 3 || mergedThrough < 2) await sleep(50);
    const leader = partition.leader;
    const killedAtFrame = progress, mergedAtKill = mergedThrough;
    c.kill(leader);
    const killedAt = Date.now();
    while (progress < (2 * frames) / 3) await sleep(50);
    c.restart();
    const restartedAt = Date.now();
    await writing;
    const writersDone = Date.now();
    const appliedCount = (): Map<string, number> => {
      const m = new Map<string, number>();
      for (const r of readLog(ctx)) for (const a of r.applied) m.set(`${a.frame}/${a.writer}/${a.seq}`, (m.get(`${a.frame}/${a.writer}/${a.seq}`) ?? 0) + 1);
      return m;
    };
    while (Date.now() - writersDone < 60_000 && (mergedThrough < frames || [...acked].some((k) => !appliedCount().has(k)))) await sleep(200);
    abort.abort();
    const ended = await loop.then(() => undefined, (e: Error) => e);
    await admin.disconnect();
    console.log(`kafka cluster: killed partition leader ${leader} at frame ${killedAtFrame} (merged through ${mergedAtKill}); restarted it ${restartedAt - killedAt} ms later; writers done ${writersDone - killedAt} ms after the kill; ${putFailures} failed puts retried; ${transportErrors.length} transport errors in the merger; merged through frame ${mergedThrough}`);
    if (transportErrors.length > 0) console.log(`first transport errors: ${transportErrors.slice(0, 5).join(' | ')}`);
    expect(ended, 'the merger loop ended with an error').toBeUndefined();
    expect(acked.size).toBe(writers.length * frames);
    expect(mergedThrough).toBeGreaterThanOrEqual(frames);
    const applied = appliedCount();
    const wrong = [...acked].filter((k) => applied.get(k) !== 1);
    expect(wrong, 'acknowledged deltas not applied exactly once').toEqual([]);
    expect(applied.size).toBe(acked.size);
    expect(verifyStore(ctx).ok).toBe(true);
  }, 240_000);
});
