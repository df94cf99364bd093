import { appendFileSync, mkdtempSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateJson } from '../../merge/canonicalState.js';
import { openStore, type Store } from '../openStore.js';
import { journalIndexPath, openJournalIndex } from './journalIndex.js';
import { iterateHistory } from './iterateHistory.js';
import { loadStateAt } from './stateAt.js';

let s: Store;
const root = mkdtempSync(join(tmpdir(), 'framelog-idx-'));
const FRAMES = [1, 2, 3, 5, 8, 13, 21, 34];
beforeAll(async () => {
  s = await openStore(join(root, 's'), { create: true, plan: { snapshotEvery: 3 } });
  await s.put(FRAMES.map((f) => ({ frame: f, writer: 'w', utc: new Date(Date.UTC(2026, 0, 1, 0, 0, f)).toISOString(), counters: { n: f } })));
  await s.merge();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sums = (upTo: number) => FRAMES.filter((f) => f <= upTo).reduce((a, b) => a + b, 0);

describe('journal index and time travel', () => {
  it('finds every frame by binary search, between merges too', async () => {
    for (let f = 0; f <= 40; f++) expect((await s.stateAt(f)).counters.n ?? 0, `frame ${f}`).toBe(sums(f));
  });

  it('is a cache: missing, stale or corrupt, it is rebuilt and answers the same', async () => {
    const ctx = s.context;
    const want = FRAMES.map((f) => stateJson(loadStateAt(ctx, f)));
    const path = journalIndexPath(ctx);
    unlinkSync(path);
    expect(FRAMES.map((f) => stateJson(loadStateAt(ctx, f)))).toEqual(want);
    writeFileSync(path, Buffer.alloc(16 * 3)); // three entries of zeros: frame 0 at offset 0 is wrong
    expect(FRAMES.map((f) => stateJson(loadStateAt(ctx, f)))).toEqual(want);
    appendFileSync(path, Buffer.alloc(16, 0xff)); // an entry pointing past the journal
    expect(FRAMES.map((f) => stateJson(loadStateAt(ctx, f)))).toEqual(want);
    truncateSync(path, 16 * 5); // stale: the tail is computed from the journal
    expect(openJournalIndex(ctx).count).toBe(FRAMES.length);
    // The merger repairs it on disk.
    await s.put([{ frame: 50, writer: 'w', utc: '2026-01-01T00:01:00Z', counters: { n: 1 } }]);
    await s.merge();
    expect(statSync(path).size).toBe(16 * (FRAMES.length + 1));
  });

  it('walks history forward one merge at a time', () => {
    const seen: Array<[number, number | undefined]> = [];
    for (const step of iterateHistory(s.context, { from: 4, to: 30 })) seen.push([step.record.frame, step.state.counters.get('n')]);
    expect(seen).toEqual([[5, sums(5)], [8, sums(8)], [13, sums(13)], [21, sums(21)]]);
    expect([...iterateHistory(s.context)].length).toBe(FRAMES.length + 1);
  });
});
