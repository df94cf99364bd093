// Store.counterSeries and GET /api/counter-series: each counter's value after every merge of a
// range, equal to the state at that frame, bounded by maxMerges.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request, serve } from '../../server/testing/serverFixture.js';
import { openStore, type Store } from '../openStore.js';

const root = mkdtempSync(join(tmpdir(), 'framelog-counter-series-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const T = (s: number) => new Date(Date.UTC(2026, 3, 19, 14, 0, s)).toISOString();

/** 12 merges (snapshots every 5); counter b first counted at frame 4, c only at frame 9. */
async function counted(): Promise<Store> {
  const s = await openStore(join(root, `s${Math.random().toString(36).slice(2)}`), { create: true, plan: { snapshotEvery: 5 } });
  for (let f = 1; f <= 12; f++) {
    await s.put([{ frame: f, writer: 'w1', utc: T(f), counters: { a: f, ...(f >= 4 ? { b: -1 } : {}), ...(f === 9 ? { c: 2.5 } : {}) } }]);
    await s.merge();
  }
  return s;
}

describe('counter series', () => {
  it('every counter after every merge equals the state at that frame; a counter not yet counted is 0', async () => {
    const s = await counted();
    const all = await s.counterSeries();
    expect(all.frames).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(all.cut).toBe(false);
    for (const [i, f] of all.frames.entries()) {
      const st = await s.stateAt(f);
      for (const n of ['a', 'b', 'c']) expect(all.series[n][i], `${n} @${f}`).toBe(st.counters[n] ?? 0);
    }
    expect(all.series.c.slice(7, 10)).toEqual([0, 2.5, 2.5]);
  });

  it('a range starts from the state at its first frame (a snapshot and the deltas since), names pick counters, maxMerges keeps the last merges', async () => {
    const s = await counted();
    const part = await s.counterSeries(['a'], { from: 7, to: 10 });
    expect(part).toEqual({ frames: [7, 8, 9, 10], series: { a: [28, 36, 45, 55] }, cut: false });
    const capped = await s.counterSeries(['b'], { maxMerges: 3 });
    expect(capped).toEqual({ frames: [10, 11, 12], series: { b: [-7, -8, -9] }, cut: true });
    await expect(s.counterSeries(['a'], { from: 9, to: 3 })).rejects.toThrow(/from 9 is after to 3/);
  });

  it('GET /api/counter-series answers the same', async () => {
    const s = await counted();
    const served = await serve({}, s.dir);
    try {
      const r = await request(served, 'GET', '/api/counter-series?name=a&name=c&from=8');
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ frames: [8, 9, 10, 11, 12], series: { a: [36, 45, 55, 66, 78], c: [0, 2.5, 2.5, 2.5, 2.5] }, cut: false });
      expect((await request(served, 'GET', '/api/counter-series?from=5&to=2')).status).toBe(400);
    } finally {
      await served.close();
    }
  });
});
