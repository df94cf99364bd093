import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLog } from '../../store/history/journalQueries.js';
import { initStore } from '../../store/storeContext.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import { runTransportMerger } from '../runTransportMerger.js';
import { serviceForTests } from '../testing/services.js';
import { openNatsTransport, type NatsTransport } from './natsTransport.js';
import { startNatsCluster, type NatsCluster } from './testing/natsCluster.js';
import { uniqueNatsStore } from './testing/natsTestStore.js';

const ok = await serviceForTests('nats'); // the cluster runs its own servers, but needs nats-server installed like the service
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cluster: NatsCluster | undefined;
const dir = mkdtempSync(join(tmpdir(), 'framelog-nats-cluster-store-'));
const open: NatsTransport[] = [];
beforeAll(async () => {
  if (ok) cluster = await startNatsCluster({ size: 3 });
}, 40_000);
afterAll(async () => {
  for (const t of open) await t.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ok)('nats transport on a 3-node JetStream cluster', () => {
  it('writers and a watch-mode merger keep going through a SIGKILL of the stream leader; every acknowledged put is applied exactly once', async () => {
    const c = cluster!;
    const store = uniqueNatsStore('cl');
    const writers = ['w0', 'w1', 'w2', 'w3'];
    const frames = 40;
    const opts = { url: c.url, store, replicas: 3, timeoutMs: 4000 };
    const merger = await openNatsTransport({ ...opts, name: 'merger' });
    open.push(merger);
    const ctx = initStore(join(dir, store), { writers, frameTimeoutMs: 1500 });
    const info = await (await jetstreamManager(merger.connection)).streams.info(merger.names.deltasStream);
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2);

    let mergedThrough = 0;
    const transportErrors: string[] = [];
    const abort = new AbortController();
    const loop = runTransportMerger(ctx, merger, {
      watch: true, signal: abort.signal, pollMs: 100,
      onMerge: (r) => (mergedThrough = Math.max(mergedThrough, r.frame)),
      onTransportError: (e) => transportErrors.push((e as Error).message),
    });

    const acked = new Set<string>();
    let putFailures = 0;
    let progress = 0;
    const write = async (w: string): Promise<void> => {
      const t = await openNatsTransport({ ...opts, name: w });
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
            await sleep(200); // the same bytes again: the server dedups a copy it already stored
          }
        }
        progress = Math.max(progress, f);
        await sleep(80);
      }
    };
    const writing = Promise.all(writers.map(write));

    // Mid-run, once the merger is merging, SIGKILL the deltas stream's leader.
    while (progress < frames / 3 || mergedThrough < 2) await sleep(50);
    const leader = (await (await jetstreamManager(merger.connection)).streams.info(merger.names.deltasStream)).cluster?.leader;
    expect(leader).toBeTruthy();
    const killedAtFrame = progress, mergedAtKill = mergedThrough;
    await c.kill(c.node(leader!));
    const killedAt = Date.now();
    await writing;
    const writersDone = Date.now();
    // A put retried across the kill can reach the merger after its frame closed without it (the
    // frame times out): it is then late, and a merge of its own closes the next frame after four
    // timeouts. So wait for every acknowledged delta to be applied, not for a frame number.
    const appliedCount = (): Map<string, number> => {
      const m = new Map<string, number>();
      for (const r of readLog(ctx)) for (const a of r.applied) m.set(`${a.frame}/${a.writer}/${a.seq}`, (m.get(`${a.frame}/${a.writer}/${a.seq}`) ?? 0) + 1);
      return m;
    };
    while (Date.now() - writersDone < 30_000 && (mergedThrough < frames || [...acked].some((k) => !appliedCount().has(k)))) await sleep(200);
    abort.abort();
    const ended = await loop.then(() => undefined, (e: Error) => e);
    console.log(`nats cluster: killed stream leader ${leader} at frame ${killedAtFrame} (merged through ${mergedAtKill}); writers done ${writersDone - killedAt} ms after; ${putFailures} failed puts retried; ${transportErrors.length} transport errors in the merger; merged through frame ${mergedThrough}`);
    if (transportErrors.length > 0) console.log(`first transport errors: ${transportErrors.slice(0, 5).join(' | ')}`);
    expect(ended, 'the merger loop ended with an error').toBeUndefined();

    const late = readLog(ctx).flatMap((r) => r.late.map((a) => `${a.frame}/${a.writer}/${a.seq} in merge ${r.frame}`));
    if (late.length > 0) console.log(`late (put retried across the kill, applied in a later merge): ${late.join(', ')}`);
    expect(acked.size).toBe(writers.length * frames);
    expect(mergedThrough).toBeGreaterThanOrEqual(frames);
    const applied = appliedCount();
    const wrong = [...acked].filter((k) => applied.get(k) !== 1);
    expect(wrong, 'acknowledged deltas not applied exactly once').toEqual([]);
    expect(applied.size).toBe(acked.size);
    expect(verifyStore(ctx).ok).toBe(true);
  }, 90_000);
});
