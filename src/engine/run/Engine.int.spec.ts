import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../delta/canonicalJson.js';
import type { JsonValue } from '../../delta/types.js';
import type { MergeRecord } from '../../merge/records.js';
import { walkersSimulation, type WalkersParams } from '../testing/walkersSimulation.js';
import { Engine, type EngineOptions } from './Engine.js';
import { readRunManifest } from './runManifest.js';

const root = mkdtempSync(join(tmpdir(), 'framelog-engine-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = (label: string): string => join(root, `${label}-${n++}`);
const MODULE = new URL('../testing/walkersSimulation.ts', import.meta.url);

function walkers(o: Partial<Omit<EngineOptions<WalkersParams>, 'params'>> & { params?: Partial<WalkersParams> } = {}): Engine<WalkersParams> {
  return new Engine<WalkersParams>({ ...walkersSimulation, shards: 4, module: MODULE, ...o, dir: o.dir ?? dir('run'), seed: o.seed ?? 1, params: { ...walkersSimulation.params!, ...(o.params ?? {}) } as WalkersParams });
}
const canon = (v: unknown): string => canonicalJson(v as JsonValue);

describe('Engine: determinism', () => {
  it('the same seed gives byte-identical stores; another seed differs', async () => {
    const a = walkers({ seed: 7 }), b = walkers({ seed: 7 }), c = walkers({ seed: 8 });
    await Promise.all([a.run(60), b.run(60), c.run(60)]); // side by side: separate dirs never touch
    const fa = a.fingerprint();
    expect(b.fingerprint()).toEqual(fa);
    expect(c.fingerprint().sha256).not.toBe(fa.sha256);
    expect(Object.keys(fa.files)).toEqual(expect.arrayContaining(['run.json', 'journal/merges.ndjson', 'journal/events.ndjson', 'snapshots/frame-000000049.json']));
    expect((await a.verify()).ok).toBe(true);
  });

  it('W = 1, 2, 4 worker processes give the same store as one process, for the same seed and shards', async () => {
    const base = walkers({ seed: 'w' });
    await base.run(40);
    const want = base.fingerprint();
    for (const workers of [1, 2, 4]) {
      const e = walkers({ seed: 'w', workers });
      const starts: number[] = [];
      await e.run(40, { onWorker: (ev) => { if (ev.type === 'start') starts.push(ev.worker); } });
      expect(starts).toHaveLength(workers);
      expect(e.fingerprint()).toEqual(want);
    }
  });

  it('a tick that throws leaves a fallback for that shard and frame; the run goes on', async () => {
    const e = walkers({ params: { failFrame: 5 } });
    const t = await e.run(8);
    expect(t.fallback).toBe(1);
    const log = await e.log();
    expect(log.find((r) => r.frame === 5)!.fallback).toEqual(['shard-0']);
    expect(log.at(-1)!.frame).toBe(8);
  });
});

describe('Engine: rewind, replay, fork', () => {
  it('state at 312 of a 500-frame run equals a run stopped at 312; a fork from 312 shares 0–312 and leaves its parent unchanged', async () => {
    const full = walkers({ shards: 2, seed: 'r' });
    const stopped = walkers({ shards: 2, seed: 'r' });
    await Promise.all([full.run(500), stopped.run(312)]);
    expect(canon(await full.stateAt(312))).toBe(canon(await stopped.stateAt()));
    const view = full.rewind(312);
    expect(canon(await view.stateAt())).toBe(canon(await stopped.stateAt()));
    await expect(view.stateAt(313)).rejects.toThrow(/rewound to frame 312/);

    const replayed: string[] = [];
    const seen = await full.replay(310, 312, (f) => { replayed.push(canon(f.state)); });
    expect(seen).toBe(3);
    expect(replayed[2]).toBe(canon(await stopped.stateAt()));
    expect(replayed[0]).toBe(canon(await stopped.stateAt(310)));
    const d = await full.diff(311, 312);
    expect(d).toBeTruthy();

    const before = full.fingerprint();
    const fork = full.fork(312, { dir: dir('fork'), seed: 'r2' });
    await fork.run(50);
    expect(full.fingerprint()).toEqual(before); // parent unchanged
    const parentLog = await full.log(), forkLog = await fork.log();
    expect(forkLog.slice(0, 313)).toEqual(parentLog.slice(0, 313)); // shares frames 0–312, record for record
    const pf = before.files, ff = fork.fingerprint().files;
    for (const f of [0, 100, 312]) {
      const name = `archive/merge-${String(f).padStart(9, '0')}.ndjson`;
      const shared = Object.keys(pf).filter((p) => p.startsWith(name));
      expect(shared.length).toBeGreaterThan(0);
      for (const p of shared) expect(ff[p]).toBe(pf[p]);
    }
    expect(forkLog.at(-1)!.frame).toBe(362);
    expect(canon(await fork.stateAt(313))).not.toBe(canon(await full.stateAt(313))); // new seed, new future
    expect(canon(await fork.stateAt(312))).toBe(canon(await full.stateAt(312)));
    expect(readRunManifest(fork.dir)!.parent).toMatchObject({ name: 'walkers', seed: 'r', frame: 312, state_sha256: createHash('sha256').update(canon(await full.stateAt(312))).digest('hex') });
    expect((await fork.verify()).ok).toBe(true);
    // A fork with changed parameters (more walkers per shard would need init; here: a fail frame).
    const fork2 = full.fork(312, { dir: dir('fork'), params: { failFrame: 313 } });
    await fork2.run(2);
    expect((await fork2.log())[313].fallback).toEqual(['shard-0']);
    expect(fork2.manifest.params.failFrame).toBe(313);
  });

  it('a run goes on where it stopped, and refuses a store of another run', async () => {
    const d = dir('resume');
    const a = walkers({ dir: d, seed: 3 });
    await a.run(10);
    const again = walkers({ dir: d, seed: 3 });
    const t = await again.run(5);
    expect([t.first, t.last]).toEqual([11, 15]);
    const straight = walkers({ seed: 3 });
    await straight.run(15);
    expect(again.fingerprint().sha256).toBe(straight.fingerprint().sha256);
    expect(() => walkers({ dir: d, seed: 4 })).toThrow(/holds run "walkers" with seed 3, not 4/);
  });
});

describe('Engine: crash', () => {
  it('a worker SIGKILLed mid-frame leaves fallbacks for its shards; the run goes on; no frame merges twice', async () => {
    const e = walkers({ workers: 2, params: { slowFrame: 10, slowMs: 400 }, frameTimeoutMs: 20_000 });
    let victim: { pid: number | undefined; shards: number[] } | undefined;
    const exits: Array<{ signal?: NodeJS.Signals | null }> = [];
    await e.run(25, {
      onFrameOpen: (frame, workers) => {
        if (frame !== 10) return;
        victim = workers[1];
        setTimeout(() => process.kill(victim!.pid!, 'SIGKILL'), 100); // mid-tick: ticks of frame 10 take 400 ms
      },
      onWorker: (ev) => { if (ev.type === 'exit') exits.push(ev); },
    });
    expect(exits.some((x) => x.signal === 'SIGKILL')).toBe(true);
    const log: MergeRecord[] = await e.log();
    const frames = log.map((r) => r.frame);
    expect(frames).toEqual(Array.from({ length: 26 }, (_, i) => i)); // each frame once, in order
    const r10 = log.find((r) => r.frame === 10)!;
    const lost = victim!.shards.map((s) => `shard-${s}`);
    for (const w of lost) expect([...r10.fallback, ...r10.missing]).toContain(w);
    expect(r10.applied.map((a) => a.writer)).not.toEqual(expect.arrayContaining(lost));
    // After the crash the survivor hosts every shard: frames go on whole.
    expect(log.at(-1)!.applied).toHaveLength(4);
    const ids = log.flatMap((r) => r.applied.map((a) => `${a.frame}/${a.writer}/${a.seq}`));
    expect(new Set(ids).size).toBe(ids.length);
    expect((await e.verify()).ok).toBe(true);
  });
});
