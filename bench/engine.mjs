#!/usr/bin/env node
// Engine bench (one run): frames/s of the evolution demo at 1,000 and 10,000 organisms through
// framelog (8 shards in this process; every delta fsynced, merged, journalled) against the naive
// loop a simulation would otherwise use (the same ticks, mutating one state object and saving
// state.json each frame, with and without fsync); and the cost of stateAt on a 10,000-frame run.
//   npm run build && node bench/engine.mjs [--quick]      → bench/results/engine.json
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, buildShardDelta, createRng, logicalClock, deepFreeze } from '../dist/engine/index.js';
import { evolutionSimulation } from '../dist/engine/demos/evolution/index.js';
import { walkersSimulation } from '../dist/engine/testing/walkersSimulation.js';

const quick = process.argv.includes('--quick');
const root = mkdtempSync(join(tmpdir(), 'framelog-bench-engine-'));
const out = fileURLToPath(new URL('./results/engine.json', import.meta.url));
const log = (...a) => console.error('engine:', ...a);

// Frames after frame 0 (which creates every organism) are the steady state a long run lives in.
const steady = (msPerFrame) => msPerFrame.slice(1);
const sum = (a) => a.reduce((x, y) => x + y, 0);
const perSec = (frames, seconds) => +(frames / seconds).toFixed(1);

async function framelogRun(size, frames) {
  const e = new Engine({ ...evolutionSimulation, dir: join(root, `evo-${size}`), seed: 1, shards: 8, params: { ...evolutionSimulation.params, size } });
  const t = performance.now();
  let last = t;
  const ms = [];
  await e.run(frames, { onMerge: () => { const now = performance.now(); ms.push(now - last); last = now; } });
  const s = (performance.now() - t) / 1000;
  const st = steady(ms);
  return { frames: frames + 1, seconds: +s.toFixed(3), frames_per_s: perSec(frames + 1, s), steady_frames_per_s: perSec(st.length, sum(st) / 1000) };
}

// The naive loop: the same ticks, applied by mutating one object, saved whole every frame. The
// ticks' own time is measured apart: no implementation that runs these ticks in one process can
// beat it, so naive ÷ ticks is the ceiling of any ratio to the naive loop.
function naiveRun(size, frames, fsync) {
  const params = { ...evolutionSimulation.params, size };
  const clock = logicalClock(), rootRng = createRng('1');
  const state = { items: {}, counters: {}, entities: {} };
  const file = join(root, `naive-${size}-${fsync}.json`);
  const apply = (d) => {
    for (const [c, list] of Object.entries(d.items ?? {})) (state.items[c] ??= []).push(...list);
    for (const [k, v] of Object.entries(d.counters ?? {})) state.counters[k] = (state.counters[k] ?? 0) + v;
    for (const [t, ids] of Object.entries(d.set ?? {})) for (const [id, f] of Object.entries(ids)) Object.assign(((state.entities[t] ??= {})[id] ??= {}), f);
  };
  const t = performance.now();
  const ms = [], tickMs = [];
  for (let f = 0; f <= frames; f++) {
    const f0 = performance.now();
    // The ticks must not see this frame's writes: copy what they read (a naive loop often forgets).
    const seen = deepFreeze(structuredClone(state));
    const deltas = [];
    const t0 = performance.now();
    for (let s = 0; s < 8; s++) deltas.push(buildShardDelta({ sim: evolutionSimulation, seed: '1', params, shards: 8, clock, root: rootRng, frame: f, shard: s, state: seen }));
    tickMs.push(performance.now() - t0);
    deltas.forEach(apply);
    const fd = openSync(file, 'w');
    writeSync(fd, JSON.stringify(state));
    if (fsync) fsyncSync(fd);
    closeSync(fd);
    ms.push(performance.now() - f0);
  }
  const s = (performance.now() - t) / 1000;
  const st = steady(ms), stTicks = steady(tickMs);
  return { frames: frames + 1, seconds: +s.toFixed(3), frames_per_s: perSec(frames + 1, s), steady_frames_per_s: perSec(st.length, sum(st) / 1000), steady_ticks_ms_per_frame: +(sum(stTicks) / stTicks.length).toFixed(1) };
}

async function stateAtCost(frames) {
  const e = new Engine({ ...walkersSimulation, dir: join(root, 'long'), seed: 1, shards: 1, params: walkersSimulation.params });
  const t = performance.now();
  await e.run(frames);
  const runSeconds = (performance.now() - t) / 1000;
  const rng = createRng('probe');
  const times = [];
  for (let i = 0; i < 50; i++) {
    const at = rng.int(frames + 1);
    const t0 = performance.now();
    await e.stateAt(at);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const t1 = performance.now();
  await e.stateAt();
  const latest = performance.now() - t1;
  return { frames: frames + 1, run_seconds: +runSeconds.toFixed(1), snapshot_every: e.context?.plan?.snapshotEvery ?? 50, probes: 50,
    median_ms: +times[25].toFixed(2), p90_ms: +times[45].toFixed(2), max_ms: +times.at(-1).toFixed(2), latest_ms: +latest.toFixed(2) };
}

const sizes = quick ? [[1000, 30], [10000, 5], [100000, 3]] : [[1000, 150], [10000, 40], [100000, 20]];
const evolution = [];
for (const [size, frames] of sizes) {
  log(`evolution ${size} organisms × ${frames} frames`);
  const framelog = await framelogRun(size, frames);
  const naive = naiveRun(size, frames, false);
  const naiveFsync = naiveRun(size, frames, true);
  const naiveMs = 1000 / naive.steady_frames_per_s, framelogMs = 1000 / framelog.steady_frames_per_s, ticksMs = naive.steady_ticks_ms_per_frame;
  evolution.push({
    organisms: size, shards: 8, framelog, naive_state_json: naive, naive_state_json_fsync: naiveFsync,
    framelog_over_naive: +(framelog.frames_per_s / naive.frames_per_s).toFixed(2),
    framelog_over_naive_steady: +(framelog.steady_frames_per_s / naive.steady_frames_per_s).toFixed(2),
    // The most any ratio to the naive loop can be when the same ticks run in one process.
    ceiling_over_naive_steady: +(naiveMs / ticksMs).toFixed(2),
    // What each adds to the ticks, per frame: framelog's journal against the naive copy + save.
    overhead_ms_per_frame: { framelog: +(framelogMs - ticksMs).toFixed(1), naive: +(naiveMs - ticksMs).toFixed(1) },
  });
  log(JSON.stringify(evolution.at(-1)));
}
log('stateAt on a long run');
const stateAt = await stateAtCost(quick ? 1000 : 10_000);
log(JSON.stringify(stateAt));
const result = {
  bench: 'engine', date: new Date().toISOString(), node: process.version, cpus: cpus().length, quick,
  note: 'framelog: every frame\'s deltas fsynced into the inbox (one batch file), merged, journalled (events, conflicts, merge record, archive segment), checkpoints when the bytes merged reach the state\'s size or every 50 frames; ticks read the state through a read-only view; steady = frames after frame 0 (which creates every organism); ceiling = naive ms/frame ÷ the ticks\' own ms/frame, the best ratio any implementation running the same ticks in one process could reach; naive: the same ticks mutate one object saved as state.json each frame (no history, no events, no rewind)',
  evolution, stateAt,
};
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
rmSync(root, { recursive: true, force: true });
console.log(JSON.stringify(result, null, 2));
