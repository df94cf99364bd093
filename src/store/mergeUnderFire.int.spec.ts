import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { initStore, openStoreContext } from './storeContext.js';
import { verifyStore } from './history/verifyStore.js';
import { readLog } from './history/journalQueries.js';
import { loadStateAt } from './history/stateAt.js';
import { toState } from '../merge/canonicalState.js';

// Many writer processes, slow and crashing ones, and a merger that is itself killed: the merge
// must hold under all of it. Writers and merger are real processes; kills are real SIGKILLs.
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const WRITER = fileURLToPath(new URL('../../dist/store/testing/stressWriter.js', import.meta.url));
const LONG = process.argv.includes('--long') || process.env.FRAMELOG_LONG === '1';
const root = mkdtempSync(join(tmpdir(), 'framelog-fire-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (c: ChildProcess) => new Promise<number | null>((res) => (c.exitCode !== null || c.signalCode !== null ? res(c.exitCode) : c.once('exit', (code) => res(code))));
const pendingDeltas = (dir: string) => readdirSync(join(dir, 'inbox')).filter((n) => n.endsWith('.json') && !n.startsWith('.')).length;
const writerProc = (dir: string, name: string, frames: number, start: number, period: number, mode = 'normal', slowMs = 0) =>
  spawn(process.execPath, [WRITER, dir, name, String(frames), String(start), String(period), mode, String(slowMs)], { stdio: ['ignore', 'ignore', 'inherit'] });
const merger = (dir: string, timeoutMs: number) => spawn(process.execPath, [CLI, 'merge', '--watch', '--dir', dir, '--frame-timeout', String(timeoutMs)], { stdio: ['ignore', 'ignore', 'pipe'] });

/** Stops the watcher, sweeps what is left with one plain merge, and returns the final state. */
async function finish(dir: string, m: ChildProcess) {
  m.kill('SIGTERM');
  expect(await exited(m)).toBe(0);
  const r = spawnSync(process.execPath, [CLI, 'merge', '--dir', dir], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const ctx = openStoreContext(dir);
  const report = verifyStore(ctx);
  expect(report.faults).toEqual([]);
  return { ctx, state: toState(loadStateAt(ctx)), log: readLog(ctx) };
}

describe('merging under load and under fire', () => {
  it('32 writer processes × 200 frames, slow, flaky and killed ones: exact sums, nothing lost', { timeout: 300_000 }, async () => {
    const dir = join(root, 'load');
    const N = 32, F = 200, period = 40, timeout = 400;
    const names = Array.from({ length: N }, (_, i) => `w${String(i).padStart(2, '0')}`);
    initStore(dir, { writers: names, frameTimeoutMs: timeout });
    const m = merger(dir, timeout);
    const start = Date.now() + 2000; // writer processes take a moment to start on two cores
    const mode = (i: number) => (i < 4 ? 'slow' : i < 8 ? 'flaky' : 'normal');
    const procs = names.map((n, i) => writerProc(dir, n, F, start, period, mode(i), timeout * 2));
    // Writers w08..w11 are killed twice each, mid-run, and restarted (they re-emit identical deltas).
    const killed = names.slice(8, 12);
    for (const round of [0.3, 0.6]) {
      await sleep(start - Date.now() + F * period * round);
      for (const n of killed) {
        const i = names.indexOf(n);
        procs[i].kill('SIGKILL');
        await exited(procs[i]);
      }
      await sleep(timeout * 3); // long enough for frames to close without them
      for (const n of killed) {
        const i = names.indexOf(n);
        procs[i] = writerProc(dir, n, F, start, period);
      }
    }
    const codes = await Promise.all(procs.map(exited));
    expect(codes.every((c) => c === 0)).toBe(true);
    while (pendingDeltas(dir) > 0 && Date.now() < start + F * period + 120_000) await sleep(200);
    const { state, log } = await finish(dir, m);
    expect(state.counters.ops).toBe(N * F);
    for (const n of names) expect(state.counters[`by.${n}`], n).toBe(F);
    expect(state.items.done).toHaveLength(N * F);
    // No frame merged twice; every kill shows as missing writers; every fallback and late delta recorded.
    expect(log.map((r) => r.frame)).toEqual([...new Set(log.map((r) => r.frame))].sort((a, b) => a - b));
    const missing = new Set(log.flatMap((r) => r.missing));
    for (const n of killed) expect(missing.has(n), `${n} killed but never missing`).toBe(true);
    const fallbacks = new Set(log.flatMap((r) => r.fallback));
    for (const n of names.slice(4, 8)) expect(fallbacks.has(n), `${n} fallback`).toBe(true);
    const late = new Set(log.flatMap((r) => r.late.map((d) => d.writer)));
    for (const n of names.slice(0, 4)) expect(late.has(n), `${n} late`).toBe(true);
    expect(log.reduce((a, r) => a + r.applied.length, 0)).toBe(N * F);
  });

  it(`a watch-mode merger SIGKILLed ${LONG ? 1000 : 50} times mid-run: verify green, exact sums`, { timeout: LONG ? 3_600_000 : 300_000 }, async () => {
    const dir = join(root, 'kills');
    const KILLS = LONG ? 1000 : 50, N = 4, period = 20, timeout = 150;
    const F = Math.ceil((KILLS * 450) / period) + 50;
    const names = Array.from({ length: N }, (_, i) => `k${i}`);
    initStore(dir, { writers: names, frameTimeoutMs: timeout, snapshotEvery: 5 });
    const start = Date.now() + 1000;
    const procs = names.map((n, i) => writerProc(dir, n, F, start, period, i === 0 ? 'slow' : i === 1 ? 'flaky' : 'normal', timeout * 2));
    let m = merger(dir, timeout);
    let kills = 0;
    while (kills < KILLS) {
      await sleep(250 + Math.random() * 400);
      m.kill('SIGKILL');
      await exited(m);
      kills++;
      m = merger(dir, timeout);
    }
    await Promise.all(procs.map(exited));
    while (pendingDeltas(dir) > 0 && Date.now() < start + F * period + 60_000) await sleep(200);
    const { state, log } = await finish(dir, m);
    expect(kills).toBe(KILLS);
    expect(state.counters.ops).toBe(N * F);
    expect(state.items.done).toHaveLength(N * F);
    expect(log.reduce((a, r) => a + r.applied.length, 0)).toBe(N * F);
  });
});
