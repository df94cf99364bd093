// Issue #19 point 4: a watch merger whose lease lapses (an engine outage longer than the TTL, a
// stall) says so, waits to take the lease again, syncs, and merges on; it does not exit.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { toState } from '../../merge/canonicalState.js';
import { loadStateAt } from '../../store/history/stateAt.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import { initStore } from '../../store/storeContext.js';
import { dropRedisStore } from '../redis/dropRedisStore.js';
import { openRedisTransport } from '../redis/redisTransport.js';
import { runTransportMerger } from '../runTransportMerger.js';
import { serviceForTests, SERVICE_URLS } from '../testing/services.js';

const ok = await serviceForTests('redis');
const url = SERVICE_URLS.redis;
const root = mkdtempSync(join(tmpdir(), 'framelog-regain-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const delta = (frame: number, w: string): Buffer => Buffer.from(JSON.stringify({ frame, writer: w, utc: new Date(Date.UTC(2026, 0, 1, 0, 0, frame)).toISOString(), counters: { n: 1 } }));

describe.skipIf(!ok)('a watch merger that loses its lease', () => {
  it('takes it again and merges on, saying so', async () => {
    const store = `g-${randomBytes(6).toString('hex')}`;
    const writer = await openRedisTransport({ url, store });
    const merger = await openRedisTransport({ url, store });
    const admin = new Redis(url, { protocol: 2 });
    const ctx = initStore(join(root, 'm'), { writers: ['a', 'b'] });
    const stop = new AbortController();
    const said: string[] = [];
    const acquired: number[] = [];
    const merged = (): number => toState(loadStateAt(ctx)).counters['n'] ?? 0;
    const until = async (what: () => boolean, ms = 15_000): Promise<void> => {
      const t0 = Date.now();
      while (!what() && Date.now() - t0 < ms) await sleep(20);
    };
    const run = runTransportMerger(ctx, merger, {
      watch: true, signal: stop.signal, pollMs: 50, leaseTtlMs: 600,
      onTransportError: (e) => said.push((e as Error).message),
      onLease: (e) => e.acquired && acquired.push(e.acquired.token),
    });
    try {
      await writer.put([delta(1, 'a'), delta(1, 'b')]);
      await until(() => merged() === 2);
      expect(merged()).toBe(2);
      // The lease lapses as in an outage longer than its TTL: its key is gone, a renewal finds so.
      await admin.del(merger.keys.lease);
      await until(() => acquired.length === 2);
      expect(acquired).toHaveLength(2);
      expect(acquired[1]).toBeGreaterThan(acquired[0]!);
      expect(said.some((m) => /lost: .*waiting to take the lease again$/.test(m))).toBe(true);
      await writer.put([delta(2, 'a'), delta(2, 'b'), delta(3, 'a'), delta(3, 'b')]);
      await until(() => merged() === 6);
      expect(merged()).toBe(6);
    } finally {
      stop.abort();
      await run;
      await admin.quit();
      await writer.close();
      await merger.close();
      await dropRedisStore(url, store);
    }
    expect(verifyStore(ctx).ok).toBe(true);
  }, 60_000);
});
