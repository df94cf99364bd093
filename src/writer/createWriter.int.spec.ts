import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/openStore.js';
import { createWriter } from './createWriter.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const store = async () => {
  const d = mkdtempSync(join(tmpdir(), 'framelog-writer-'));
  dirs.push(d);
  return openStore(join(d, 's'), { create: true });
};

describe('createWriter', () => {
  it('stamps frame, utc, writer and seq, and writes atomically into the inbox', async () => {
    const s = await store();
    const w = createWriter({ dir: s.dir, writer: 'agent-1', clock: () => Date.UTC(2026, 0, 1) });
    const r = await w.run(3, (d) => { d.item('posts', { id: 1 }).incr('n', 2).set('agents', '1', 'status', 'idle').event({ type: 'x' }).meta({ model: 'm' }); });
    expect(r.status).toBe('ok');
    expect(r.delta).toEqual({ frame: 3, writer: 'agent-1', utc: '2026-01-01T00:00:00.000Z', seq: 0, items: { posts: [{ id: 1 }] }, counters: { n: 2 }, set: { agents: { '1': { status: 'idle' } } }, events: [{ type: 'x' }], meta: { model: 'm' } });
    expect(JSON.parse(readFileSync(join(s.dir, r.put.file), 'utf8'))).toEqual(r.delta);
    expect(readdirSync(join(s.dir, 'inbox')).filter((n) => n.startsWith('.'))).toEqual([]); // no temp left
  });

  it('gives units of one frame seq 0, 1, 2 in call order, so a re-run reuses the same seq', async () => {
    const s = await store();
    const first = createWriter({ dir: s.dir, writer: 'w', clock: () => 0 });
    await first.run(1, (d) => { d.incr('n'); });
    await first.run(1, (d) => { d.incr('n'); });
    await first.run(2, (d) => { d.incr('n'); });
    // A crashed worker's re-run repeats the same units in the same order.
    const rerun = createWriter({ dir: s.dir, writer: 'w', clock: () => 0 });
    const again = [await rerun.run(1, (d) => { d.incr('n'); }), await rerun.run(1, (d) => { d.incr('n'); })];
    expect(again.map((r) => r.delta.seq)).toEqual([0, 1]);
    expect(again.every((r) => !r.put.written)).toBe(true); // identical: already pending
    await s.merge();
    expect((await s.stateAt()).counters.n).toBe(3);
  });

  it('emits a fallback delta with the same seq when the work throws; the real delta still applies later', async () => {
    const s = await store();
    const w = createWriter({ dir: s.dir, writer: 'w' });
    const r = await w.run(1, () => { throw new Error('model timed out'); });
    expect(r).toMatchObject({ status: 'fallback', delta: { status: 'fallback', seq: 0, meta: { error: 'model timed out' } } });
    expect((r.error as Error).message).toBe('model timed out');
    const [rec] = await s.merge();
    expect(rec.fallback).toEqual(['w']);
    const retry = createWriter({ dir: s.dir, writer: 'w' });
    await retry.run(1, (d) => { d.incr('done'); });
    const [late] = await s.merge();
    expect(late.late).toHaveLength(1);
    expect((await s.stateAt()).counters.done).toBe(1);
  });

  it('refuses a bad writer name and a delta that breaks the protocol, writing nothing', async () => {
    const s = await store();
    expect(() => createWriter({ dir: s.dir, writer: '../etc' })).toThrow(/must be 1–128 chars/);
    const w = createWriter({ dir: s.dir, writer: 'w' });
    await expect(w.emit(1, (d) => { d.incr('n', Number.NaN); })).rejects.toThrow(/counters\.n: non-finite number/);
    expect(readdirSync(join(s.dir, 'inbox'))).toEqual([]);
  });
});
