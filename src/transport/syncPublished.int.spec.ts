import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identityKey } from '../delta/identity.js';
import { readLog } from '../store/journalQueries.js';
import { landDeltas } from '../store/landDeltas.js';
import { openMergerOn } from '../store/openStore.js';
import { initStore, openStoreContext } from '../store/storeContext.js';
import { verifyStore } from '../store/verifyStore.js';
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
      await stale.prepareMerger?.();
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
});
