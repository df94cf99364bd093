// #19 point 3: a NATS store's replica count is the store's, recorded by `transport init`, used by
// every merger for its streams and its lease bucket (an older one-copy bucket is scaled up), so the
// loss of the node leading the lease bucket does not stop merging. On a 3-node cluster of its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLog } from '../../store/history/journalQueries.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import { openStoreContext } from '../../store/storeContext.js';
import { openTransport, resolveTransportConfig } from '../openTransport.js';
import { runTransportMerger } from '../runTransportMerger.js';
import { serviceForTests } from '../testing/services.js';
import type { Transport } from '../transport.js';
import { openNatsTransport, type NatsTransport } from './natsTransport.js';
import { startNatsCluster, type NatsCluster } from './testing/natsCluster.js';
import { uniqueNatsStore } from './testing/natsTestStore.js';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const ok = await serviceForTests('nats');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cluster: NatsCluster | undefined;
const root = mkdtempSync(join(tmpdir(), 'framelog-nats-replicas-'));
const open: Transport[] = [];
beforeAll(async () => {
  if (ok) cluster = await startNatsCluster({ size: 3 });
}, 40_000);
afterAll(async () => {
  for (const t of open) await t.close().catch(() => undefined);
  await cluster?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!ok)('nats replicas are the store\'s (#19 point 3)', () => {
  it('transport init --replicas 3 records them and scales the streams; a merger scales an older one-copy lease bucket; killing the bucket\'s leader does not stop merging', async () => {
    const c = cluster!;
    const store = uniqueNatsStore('rep');
    // An older setup: streams and a lease bucket of one copy (a merger that was told no count).
    const old: NatsTransport = await openNatsTransport({ url: c.url, store, replicas: 1 });
    const jsm = await jetstreamManager(old.connection);
    const replicasOf = async (stream: string) => (await jsm.streams.info(stream)).config.num_replicas;
    await (await old.failover!.acquireLease({ holder: 'old', ttlMs: 2000 })).release();
    expect([await replicasOf(old.names.deltasStream), await replicasOf(old.names.leaseStream)]).toEqual([1, 1]);

    const dir = join(root, 'merger');
    const init = spawnSync(process.execPath, [CLI, 'transport', 'init', '--transport', 'nats', '--url', c.url, '--store', store, '--replicas', '3', '--dir', dir, '--writers', 'w0', '--frame-timeout', '1000', '--json'], { encoding: 'utf8', env: { ...process.env, FRAMELOG_NATS_REPLICAS: '' } });
    expect(init.status, init.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'framelog.json'), 'utf8')).transport).toEqual({ kind: 'nats', url: c.url, store, replicas: 3 });
    expect([await replicasOf(old.names.deltasStream), await replicasOf(old.names.mergesStream)]).toEqual([3, 3]);

    // A merger and a writer of the store, configured by its framelog.json alone.
    const ctx = openStoreContext(dir);
    const config = resolveTransportConfig({}, {}, ctx.plan.transport);
    expect(config.replicas).toBe(3);
    const merger = await openTransport(config, dir, { role: 'merger' });
    const writer = await openTransport(config, dir, { role: 'writer' });
    open.push(merger, writer);
    let mergedThrough = 0;
    const errors: string[] = [];
    const abort = new AbortController();
    const loop = runTransportMerger(ctx, merger, { watch: true, signal: abort.signal, pollMs: 100, leaseTtlMs: 3000, onMerge: (r) => (mergedThrough = Math.max(mergedThrough, r.frame)), onTransportError: (e) => errors.push((e as Error).message) });
    const put = async (f: number) => {
      for (;;) {
        try {
          await writer.put([Buffer.from(JSON.stringify({ frame: f, writer: 'w0', utc: new Date(Date.UTC(2026, 0, 1) + f * 1000).toISOString(), counters: { n: 1 } }))]);
          return;
        } catch {
          await sleep(200); // a put cut by the kill: the same bytes again (the server drops a copy it has)
        }
      }
    };
    const until = async (frame: number, ms: number) => {
      const end = Date.now() + ms;
      while (mergedThrough < frame && Date.now() < end) await sleep(100);
      return mergedThrough;
    };
    for (let f = 1; f <= 3; f++) await put(f);
    expect(await until(3, 30_000)).toBeGreaterThanOrEqual(3);
    expect(await replicasOf(old.names.leaseStream)).toBe(3); // the merger scaled the old bucket up
    await old.close();

    // The node leading the lease bucket goes: the lease and the merging go on.
    const leader = (await (await jetstreamManager((merger as NatsTransport).connection)).streams.info((merger as NatsTransport).names.leaseStream)).cluster?.leader;
    expect(leader).toBeTruthy();
    await c.kill(c.node(leader!));
    for (let f = 4; f <= 8; f++) await put(f);
    const reached = await until(8, 45_000);
    abort.abort();
    const ended = await loop.then(() => undefined, (e: Error) => e);
    if (errors.length) console.log(`nats replicas: transport errors after killing ${leader}: ${errors.slice(0, 4).join(' | ')}`);
    expect(reached, `merged through ${reached} after the lease bucket's leader ${leader} was killed`).toBeGreaterThanOrEqual(8);
    expect(ended).toBeUndefined();
    expect(readLog(ctx).flatMap((r) => r.applied.map((a) => a.frame)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(verifyStore(ctx).ok).toBe(true);
  }, 120_000);
});
