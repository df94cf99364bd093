#!/usr/bin/env node
// The cost-of-the-delta benchmark (issue "The journal is cheap"): a store grown to a million items
// through the library, as a user would drive it, measuring what one frame costs as the state and
// the history grow. Per frame 8 writers each put one delta of 100 items (~60 bytes each), a counter
// and a field; the deltas go in with one `putDeltas` call (a batch file), then the long-lived
// merger closes the frame (`merger.merge({through})`, durable: fsync before it returns).
//
//   npm run bench -- scale [--quick] [--items=N] [--samples=K]
//
// Measures, into bench/results/scale.json and a table:
//   - merge time per frame (median, mean and max of the 40 frames before) at 10k, 100k, 1M items;
//     the mean includes the checkpoints (a snapshot of the whole state, taken when the bytes merged
//     since the last one reach the state's size), so it is the amortised cost;
//   - put → merged throughput: 10,000 deltas put in batches of 100, then merged;
//   - store bytes (journals + archive + snapshots) / archived delta bytes, at each milestone;
//   - stateAt at random frames (the state at that frame is rebuilt from the nearest checkpoint);
//   - RSS of the merger process at each milestone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, percentile, prng } from './workload.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const argv = process.argv.slice(2);
const opt = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = argv.includes('--quick');
const targetItems = Number(opt('items') ?? (quick ? 100_000 : 1_000_000));
const samples = Number(opt('samples') ?? (quick ? 10 : 30));
const WRITERS = 8, ITEMS = 100, WINDOW = 40;
const milestones = [10_000, 100_000, 1_000_000].filter((m) => m <= targetItems);

const lib = await import(pathToFileURL(path.join(root, 'dist/internals.js')).href);
const { initStore, openStoreContext, putDeltas, openMergerOn, loadStateAt, toState } = lib;
const work = path.join(benchDir, '.tmp', 'scale');
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const dir = path.join(work, 'store');
const now = () => process.hrtime.bigint();
const ms = (t0) => Number(now() - t0) / 1e6;
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const BASE = Date.UTC(2026, 0, 1);
const rng = prng(7);
const pad = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** The delta of writer `w` at frame `f`: 100 items of ~60 bytes, a counter, a field. */
function deltaText(f, w) {
  const writer = `w${w}`;
  const items = [];
  for (let i = 0; i < ITEMS; i++) items.push({ id: `${f}-${w}-${i}`, v: pad.slice(0, 20 + Math.floor(rng() * 16)), n: i });
  return JSON.stringify({ frame: f, writer, utc: new Date(BASE + f * 1000 + w).toISOString(), items: { log: items }, counters: { done: 1 }, set: { agents: { [writer]: { last: f } } } });
}

function du(p) {
  let total = 0;
  for (const e of fs.readdirSync(p, { withFileTypes: true })) {
    const q = path.join(p, e.name);
    total += e.isDirectory() ? du(q) : fs.statSync(q).size;
  }
  return total;
}
const storeBytes = () => ['journal', 'archive', 'snapshots'].reduce((a, d) => a + du(path.join(dir, d)), 0);

const ctx = initStore(dir, { writers: Array.from({ length: WRITERS }, (_, w) => `w${w}`) });
const merger = openMergerOn(ctx);
const frameMs = [];
const putMs = [];
let deltaBytes = 0;
let items = 0;
let frame = 0;
const atMilestone = [];
const t0 = now();
while (items < targetItems) {
  frame++;
  const inputs = [];
  for (let w = 0; w < WRITERS; w++) {
    const text = deltaText(frame, w);
    deltaBytes += Buffer.byteLength(text);
    inputs.push({ bytes: Buffer.from(text), source: `w${w}@${frame}` });
  }
  let t = now();
  putDeltas(ctx, inputs);
  putMs.push(ms(t));
  t = now();
  const recs = merger.merge({ through: frame });
  frameMs.push(ms(t));
  if (recs.length !== 1 || recs[0].applied.length !== WRITERS) throw new Error(`frame ${frame}: expected one merge of ${WRITERS} deltas`);
  items += WRITERS * ITEMS;
  const m = milestones.find((x) => items >= x && !atMilestone.some((a) => a.items === x));
  if (m !== undefined) {
    const win = frameMs.slice(-WINDOW);
    const bytes = storeBytes();
    const row = {
      items: m, frame, stateItems: items,
      mergeMsMedian: round(median(win)), mergeMsMean: round(win.reduce((a, b) => a + b, 0) / win.length), mergeMsMax: round(Math.max(...win)),
      putMsMedian: round(median(putMs.slice(-WINDOW))),
      storeBytes: bytes, deltaBytes, storeOverDeltas: round(bytes / deltaBytes, 3),
      snapshots: fs.readdirSync(path.join(dir, 'snapshots')).filter((n) => n.endsWith('.json')).length,
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      elapsedS: round(ms(t0) / 1000, 1),
    };
    atMilestone.push(row);
    console.error(`  · ${m} items (frame ${frame}): merge median ${row.mergeMsMedian} ms, mean ${row.mergeMsMean} ms, max ${row.mergeMsMax} ms; store/deltas ${row.storeOverDeltas}; rss ${row.rssMiB} MiB`);
  }
}
const lastState = toState(merger.state);
if (lastState.items.log.length !== items || lastState.counters.done !== frame * WRITERS) throw new Error('final state is wrong');
// Mean over the whole run (every checkpoint included) per 1k items merged.
const totalMergeMs = frameMs.reduce((a, b) => a + b, 0);

// Put → merged: 10,000 deltas in batches of 100 (small deltas: one counter and one field each), then one merge.
const PUT_N = quick ? 2000 : 10_000;
const small = [];
for (let i = 0; i < PUT_N; i++) {
  const f = frame + 1 + Math.floor(i / 100);
  small.push({ bytes: Buffer.from(JSON.stringify({ frame: f, writer: `p${i % 100}`, utc: new Date(BASE + f * 1000).toISOString(), counters: { done: 1 }, set: { agents: { [`p${i % 100}`]: { last: f } } } })), source: `p${i}` });
}
let t = now();
for (let i = 0; i < PUT_N; i += 100) putDeltas(ctx, small.slice(i, i + 100));
const putSeconds = ms(t) / 1000;
t = now();
const recs = merger.merge();
const mergeSeconds = ms(t) / 1000;
const putToMerged = { deltas: PUT_N, putSeconds: round(putSeconds, 3), mergeSeconds: round(mergeSeconds, 3), merges: recs.length, deltasPerSec: Math.round(PUT_N / (putSeconds + mergeSeconds)), putDeltasPerSec: Math.round(PUT_N / putSeconds) };
console.error(`  · put → merged: ${PUT_N} deltas, ${putToMerged.deltasPerSec} deltas/s (put alone ${putToMerged.putDeltasPerSec}/s)`);
const rssMerger = Math.round(process.memoryUsage().rss / 2 ** 20);
merger.close();

// stateAt at random frames: rebuilt from the nearest checkpoint at or below (a reader's cost).
const reader = openStoreContext(dir);
const stateAt = [];
for (let i = 0; i < samples; i++) {
  const f = 1 + Math.floor(rng() * frame);
  const t1 = now();
  const s = loadStateAt(reader, f);
  const took = ms(t1);
  stateAt.push({ frame: f, items: s.items.get('log')?.order.length ?? 0, ms: round(took) });
}
stateAt.sort((a, b) => a.frame - b.frame);
const perItem = stateAt.filter((s) => s.items > 0).map((s) => (s.ms * 1000) / s.items);

const base = atMilestone[0];
const results = {
  bench: 'scale',
  date: new Date().toISOString(),
  node: process.version,
  command: `node bench/scale.mjs${argv.length ? ' ' + argv.join(' ') : ''}`,
  code: { commit: (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(); } catch { return undefined; } })() },
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadavgAtStart: os.loadavg().map((x) => round(x)) },
  workload: `${WRITERS} writers per frame, each delta: ${ITEMS} items of ~60 bytes, 1 counter, 1 field; put as one batch per frame, merged by a long-lived merger (durable)`,
  frames: frame, items, deltaBytes,
  milestones: atMilestone.map((r) => ({ ...r, mergeMedianOver10k: round(r.mergeMsMedian / base.mergeMsMedian), mergeMeanOver10k: round(r.mergeMsMean / base.mergeMsMean) })),
  wholeRun: { mergeMsPerFrameMean: round(totalMergeMs / frame), mergeMsPer1kItems: round(totalMergeMs / (items / 1000)) },
  putToMerged,
  stateAt: { samples: stateAt, msMedian: round(median(stateAt.map((s) => s.ms))), msP90: round(percentile(stateAt.map((s) => s.ms), 90)), usPerItemMedian: round(median(perItem)), usPerItemP90: round(percentile(perItem, 90)) },
  rssMerger,
};
fs.mkdirSync(path.join(benchDir, 'results'), { recursive: true });
fs.writeFileSync(path.join(benchDir, 'results', 'scale.json'), JSON.stringify(results, null, 2) + '\n');
console.log('\nframelog scale (bench/results/scale.json)');
console.log('items      frame  merge ms median / mean / max   ×10k (median, mean)  store/deltas  snapshots  RSS MiB');
for (const r of results.milestones) {
  console.log(`${String(r.items).padEnd(10)} ${String(r.frame).padStart(5)}  ${`${r.mergeMsMedian} / ${r.mergeMsMean} / ${r.mergeMsMax}`.padEnd(30)} ${`${r.mergeMedianOver10k}, ${r.mergeMeanOver10k}`.padEnd(20)} ${String(r.storeOverDeltas).padEnd(13)} ${String(r.snapshots).padEnd(10)} ${r.rssMiB}`);
}
console.log(`whole run: ${results.wholeRun.mergeMsPerFrameMean} ms per frame on average (every checkpoint included)`);
console.log(`put → merged: ${putToMerged.deltasPerSec} deltas/s (${PUT_N} deltas, batches of 100)`);
console.log(`stateAt at ${samples} random frames: median ${results.stateAt.msMedian} ms, p90 ${results.stateAt.msP90} ms; ${results.stateAt.usPerItemMedian} µs per item of state (p90 ${results.stateAt.usPerItemP90})`);
fs.rmSync(work, { recursive: true, force: true });
