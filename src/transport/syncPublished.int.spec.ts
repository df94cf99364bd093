import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identityKey } from '../delta/identity.js';
import { readLog } from '../store/history/journalQueries.js';
import { landDeltas } from '../store/inbox/landDeltas.js';
import { openMergerOn } from '../store/openStore.js';
import { initStore, openStoreContext, type StoreContext } from '../store/storeContext.js';
import { verifyStore } from '../store/history/verifyStore.js';
import { dropRedisStore } from './redis/dropRedisStore.js';
import { openRedisTransport } from './redis/redisTransport.js';
import { runTransportMerger } from './runTransportMerger.js';
import { SERVICE_URLS, serviceForTests } from './testing/services.js';

const root = mkdtempSync(join(tmpdir(), 'framelog-sync-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ok = await serviceForTests('redis');
const NOW = Date.parse('2026-06-01T00:00:00Z');
const delta = (frame: number, writer: string, n = 1) => Buffer.from(JSON.stringify({ frame, writer, utc: `2026-05-01T00:00:0${frame}.000Z`, counters: { n }, set: { board: { leader: { by: writer } } } }));

describe.skipIf(!ok)('catching up with the published merges (through redis)', () => {
  it('host B takes over from A; A, which had merged on its own after losing the lease, takes its merge back and continues B\'s history: nothing lost, nothing applied twice', async () => {
    const store = `sync_${process.pid}_${Date.now().toString(36)}`;
    const url = SERVICE_URLS.redis;
    const plan = { writers: ['w1', 'w2'] };
    const a = initStore(join(root, 'a'), plan), b = initStore(join(root, 'b'), plan);
    const writer = await openRedisTransport({ url, store });
    const open = () => openRedisTransport({ url, store });
    try {
      // A merges frame 1 and publishes it.
      await writer.put([delta(1, 'w1'), delta(1, 'w2')]);
      const ta = await open();
      expect((await runTransportMerger(a, ta, { now: () => NOW })).map((r) => r.frame)).toEqual([1]);
      await ta.close();
      // A loses the lease but, unaware, merges frame 2 from what it had pulled: a merge nobody published.
      await writer.put([delta(2, 'w1'), delta(2, 'w2', 5)]);
      const stale = await open();
      await stale.merger?.begin();
      landDeltas(a, (await stale.pull()).map((x) => x.bytes));
      await stale.close();
      const m = openMergerOn(a);
      m.merge({ now: () => NOW + 1 });
      m.close();
      expect(readLog(a).map((r) => r.frame)).toEqual([1, 2]);
      // B holds the lease: catches up with merge 1, merges frame 2 (and 3) and publishes them.
      await writer.put([delta(3, 'w1'), delta(3, 'w2')]);
      const tb = await open();
      const onB: string[] = [];
      const bRecords = await runTransportMerger(b, tb, { now: () => NOW + 2, onLease: (e) => e.sync && onB.push(JSON.stringify(e.sync)) });
      await tb.close();
      expect(onB).toEqual([JSON.stringify({ imported: 1, published: 0, rewound: [] })]);
      expect(bRecords.map((r) => r.frame)).toEqual([2, 3]);
      // A comes back: its own merge 2 is taken back, B's merges 2 and 3 applied byte for byte.
      const ta2 = await open();
      const onA: string[] = [];
      await runTransportMerger(a, ta2, { now: () => NOW + 3, onLease: (e) => e.sync && onA.push(JSON.stringify(e.sync)) });
      await ta2.close();
      expect(onA).toEqual([JSON.stringify({ imported: 2, published: 0, rewound: [2] })]);
      expect(readFileSync(a.layout.merges, 'utf8')).toBe(readFileSync(b.layout.merges, 'utf8'));
      expect(readdirSync(a.layout.inbox)).toEqual([]);
      expect(verifyStore(a).ok).toBe(true);
      expect(verifyStore(b).ok).toBe(true);
      const applied = readLog(openStoreContext(a.layout.root)).flatMap((r) => r.applied.map(identityKey));
      expect(applied.sort()).toEqual(['1/w1/0', '1/w2/0', '2/w1/0', '2/w2/0', '3/w1/0', '3/w2/0']);
    } finally {
      await writer.close();
      await dropRedisStore(url, store);
    }
  }, 60_000);

  it('a standby host whose framelog.json is a plan the store has moved past refuses to merge (plan-mismatch), merges once updated; a new plan is a plan change', async () => {
    const store = `plan_${process.pid}_${Date.now().toString(36)}`;
    const url = SERVICE_URLS.redis;
    const p1 = { writers: ['w1', 'w2'], keys: { posts: 'id' } };
    const a = initStore(join(root, 'pa'), p1), b = initStore(join(root, 'pb'), p1);
    /** The store at `ctx` with `plan` written to its framelog.json, as an operator would. */
    const withPlan = (ctx: StoreContext, plan: object): StoreContext => {
      writeFileSync(ctx.layout.plan, JSON.stringify({ ...ctx.plan, ...plan }, null, 2) + '\n');
      return openStoreContext(ctx.layout.root);
    };
    const writer = await openRedisTransport({ url, store });
    const merge = async (ctx: StoreContext, t: number) => {
      const tr = await openRedisTransport({ url, store });
      try {
        return (await runTransportMerger(ctx, tr, { now: () => NOW + t })).map((r) => r.frame);
      } finally {
        await tr.close();
      }
    };
    const post = (frame: number, writerName: string) => Buffer.from(JSON.stringify({ frame, writer: writerName, utc: `2026-05-01T00:00:0${frame}.000Z`, items: { posts: [{ id: frame, slug: 'same' }] } }));
    try {
      await writer.put([post(1, 'w1')]);
      expect(await merge(a, 0)).toEqual([1]);
      // A's operator changes the plan (posts keyed by slug); A merges frame 2 under it.
      const a2 = withPlan(a, { keys: { posts: 'slug' } });
      await writer.put([post(2, 'w1')]);
      expect(await merge(a2, 1)).toEqual([2]);
      // B still has the old framelog.json: it imports merges 1 and 2, then refuses to merge frame 3.
      await writer.put([post(3, 'w2')]);
      const refused = await merge(b, 2).then(() => undefined, (e: { code?: string; message: string }) => e);
      expect(refused?.code).toBe('plan-mismatch');
      expect(refused?.message).toMatch(/replaced from merge 2 on by plan/);
      expect(readLog(b).map((r) => r.frame)).toEqual([1, 2]);
      // Updated, B merges frame 3 under the store's plan: the post of frame 3 is a duplicate slug.
      const b2 = withPlan(b, { keys: { posts: 'slug' } });
      expect(await merge(b2, 3)).toEqual([3]);
      expect(readFileSync(b2.layout.plans, 'utf8').trim().split('\n')).toHaveLength(2);
      expect(verifyStore(b2).ok).toBe(true);
      // A plan the store never held is a plan change: recorded by the next merge.
      const b3 = withPlan(b2, { keys: { posts: ['id', 'slug'] } });
      await writer.put([post(4, 'w2')]);
      expect(await merge(b3, 4)).toEqual([4]);
      expect(readFileSync(b3.layout.plans, 'utf8').trim().split('\n')).toHaveLength(3);
      expect(verifyStore(b3).ok).toBe(true);
    } finally {
      await writer.close();
      await dropRedisStore(url, store);
    }
  }, 60_000);
});
