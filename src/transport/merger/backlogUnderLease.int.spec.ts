// Issue #19 point 1: a backlog whose merge takes longer than the lease TTL is merged in one
// one-shot run on an engine transport, without losing the lease: landing and merging run in
// slices with a turn of the event loop between them, so the lease's renewals keep it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLog } from '../../store/history/journalQueries.js';
import { initStore } from '../../store/storeContext.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import { loadStateAt } from '../../store/history/stateAt.js';
import { toState } from '../../merge/canonicalState.js';
import { dropRedisStore } from '../redis/dropRedisStore.js';
import { openRedisTransport } from '../redis/redisTransport.js';
import { runTransportMerger } from '../runTransportMerger.js';
import { serviceForTests, SERVICE_URLS } from '../testing/services.js';

const ok = await serviceForTests('redis');
const url = SERVICE_URLS.redis;
const root = mkdtempSync(join(tmpdir(), 'framelog-backlog-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FRAMES = 300, WRITERS = 20, TTL_MS = 3000;
const delta = (frame: number, w: number): Buffer =>
  Buffer.from(JSON.stringify({ frame, writer: `w${w}`, utc: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, frame * 100 + w)).toISOString(), counters: { n: 1 }, items: { log: [{ id: `${frame}-${w}`, pad: 'x'.repeat(200) }] } }));

describe.skipIf(!ok)('a backlog longer to merge than the lease TTL', () => {
  it(`${FRAMES * WRITERS} deltas merged by one one-shot run with a ${TTL_MS} ms lease: nothing lost, lease kept, all acknowledged`, async () => {
    const store = `b-${randomBytes(6).toString('hex')}`;
    const writer = await openRedisTransport({ url, store });
    const merger = await openRedisTransport({ url, store });
    try {
      const all: Buffer[] = [];
      for (let f = 1; f <= FRAMES; f++) for (let w = 0; w < WRITERS; w++) all.push(delta(f, w));
      for (let i = 0; i < all.length; i += 500) await writer.put(all.slice(i, i + 500));
      const ctx = initStore(join(root, 'merger'));
      const t0 = Date.now();
      const records = await runTransportMerger(ctx, merger, { leaseTtlMs: TTL_MS });
      const seconds = (Date.now() - t0) / 1000;
      console.log(`backlog of ${all.length} deltas in ${FRAMES} frames merged in ${seconds.toFixed(1)} s under a ${TTL_MS} ms lease`);
      expect(seconds * 1000).toBeGreaterThan(TTL_MS); // the point: longer than the lease lives unrenewed
      expect(records).toHaveLength(FRAMES);
      expect(readLog(ctx)).toHaveLength(FRAMES);
      expect(toState(loadStateAt(ctx)).counters['n']).toBe(FRAMES * WRITERS);
      expect(verifyStore(ctx).ok).toBe(true);
      expect((await merger.failover.publishedHead())?.index).toBe(FRAMES);
      expect(await merger.pull()).toEqual([]); // every delta acknowledged: nothing redelivered
    } finally {
      await writer.close();
      await merger.close();
      await dropRedisStore(url, store);
    }
  }, 180_000);
});
