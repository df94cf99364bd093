// Store.fieldHistory and GET /api/field-history: every write to one field, newest first, with who
// won, who lost, under which conflict, and the resolution that closed it; paged and bounded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request, serve } from '../../server/testing/serverFixture.js';
import { openStore, type Store } from '../openStore.js';

const root = mkdtempSync(join(tmpdir(), 'framelog-field-history-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const T = (s: number) => `2026-04-19T14:00:${String(s).padStart(2, '0')}Z`;

/** Four merges: a1.status written in 1, contested in 2 (lww: w2 wins), untouched in 3, agreed in 4; load under max. */
async function written(): Promise<Store> {
  const s = await openStore(join(root, `s${Math.random().toString(36).slice(2)}`), { create: true, plan: { policies: { agents: { load: 'max' } } } });
  const merge = async (ds: Parameters<Store['put']>[0]) => {
    await s.put(ds);
    await s.merge();
  };
  await merge([{ frame: 1, writer: 'w1', utc: T(1), set: { agents: { a1: { status: 'idle', load: 5 } } } }]);
  await merge([
    { frame: 2, writer: 'w1', utc: T(2), set: { agents: { a1: { status: 'busy', load: 3 } } } },
    { frame: 2, writer: 'w2', utc: T(3), set: { agents: { a1: { status: 'done' } } } },
  ]);
  await merge([{ frame: 3, writer: 'w3', utc: T(4), set: { agents: { a2: { status: 'idle' } } } }]);
  await merge([
    { frame: 4, writer: 'w1', utc: T(5), set: { agents: { a1: { status: 'idle' } } } },
    { frame: 4, writer: 'w3', utc: T(6), set: { agents: { a1: { status: 'idle' } } } },
  ]);
  return s;
}

describe('field history', () => {
  it('lists every write to the field, newest first: winners, losers with their conflict, and writes that agreed', async () => {
    const s = await written();
    const page = await s.fieldHistory('agents', 'a1', 'status');
    expect(page.next).toBeUndefined();
    expect(page.scanned).toBe(4);
    expect(page.writes.map((w) => [w.merge, w.writer, w.value, w.outcome, w.conflict ?? null])).toEqual([
      [4, 'w3', 'idle', 'won', null],
      [4, 'w1', 'idle', 'same', null],
      [2, 'w2', 'done', 'won', 'm2.1'],
      [2, 'w1', 'busy', 'lost', 'm2.1'],
      [1, 'w1', 'idle', 'won', null],
    ]);
    expect(page.writes[2]).toMatchObject({ frame: 2, seq: 0, utc: T(3) });
    // A lone write that lost to the value before it, under max.
    const load = await s.fieldHistory('agents', 'a1', 'load');
    expect(load.writes.map((w) => [w.merge, w.value, w.outcome, w.conflict])).toEqual([[2, 3, 'lost', 'm2.0'], [1, 5, 'won', undefined]]);
  });

  it('names the resolution that closed a conflict a write lost', async () => {
    const s = await written();
    await s.resolve({ ids: ['m2.1'], choice: { winner: 'w1' }, as: 'human.ana' });
    await s.merge();
    const page = await s.fieldHistory('agents', 'a1', 'status');
    const lost = page.writes.find((w) => w.merge === 2 && w.writer === 'w1');
    expect(lost?.resolvedBy).toMatchObject({ merge: 5 });
    expect(page.writes[0]).toMatchObject({ merge: 5, writer: 'human.ana', value: 'busy', outcome: 'won' });
  });

  it('pages: a page stops at the limit (a merge whole) or after scanMerges merges, and next goes on where it stopped', async () => {
    const s = await written();
    const p1 = await s.fieldHistory('agents', 'a1', 'status', { limit: 1 });
    expect(p1.writes.map((w) => w.merge)).toEqual([4, 4]);
    expect(p1.next).toBe(4);
    const p2 = await s.fieldHistory('agents', 'a1', 'status', { limit: 1, before: p1.next });
    expect(p2.writes.map((w) => w.merge)).toEqual([2, 2]);
    expect(p2.scanned).toBe(2); // merge 3 wrote nothing to it
    const p3 = await s.fieldHistory('agents', 'a1', 'status', { before: p2.next });
    expect(p3.writes.map((w) => w.merge)).toEqual([1]);
    expect(p3.next).toBeUndefined();
    const bounded = await s.fieldHistory('agents', 'a1', 'status', { scanMerges: 1, before: 4 });
    expect(bounded).toEqual({ writes: [], next: 3, scanned: 1 });
    await expect(s.fieldHistory('agents', 'a1', 'status', { limit: 0 })).rejects.toThrow(/limit 0/);
  });

  it('GET /api/field-history answers the same, and names a missing parameter', async () => {
    const s = await written();
    const served = await serve({}, s.dir);
    try {
      const r = await request(served, 'GET', '/api/field-history?type=agents&id=a1&field=status&limit=2');
      expect(r.status).toBe(200);
      const body = r.json as { writes: Array<{ merge: number; outcome: string }>; next: number };
      expect(body.writes.map((w) => [w.merge, w.outcome])).toEqual([[4, 'won'], [4, 'same']]);
      expect(body.next).toBe(4);
      const bad = await request(served, 'GET', '/api/field-history?type=agents&id=a1');
      expect(bad.status).toBe(400);
      expect((bad.json as { message: string }).message).toMatch(/needs field/);
    } finally {
      await served.close();
    }
  });
});
