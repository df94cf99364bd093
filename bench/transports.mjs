#!/usr/bin/env node
// Transport benchmarks: deltas/s through git (writer processes in their own clones pushing to one
// bare repository on local disk), with 1 and 8 writers, then the merger pulling, merging and
// pushing what they sent; and end-to-end latency from put to merged (pushed "merge frame N"), git
// beside the filesystem inbox. Writes bench/results/transports.json.
//
//   npm run build && node bench/transports.mjs [--quick]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const quick = process.argv.includes('--quick');
const work = path.join(benchDir, '.tmp', 'transports');
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
// The library as built when the run starts, copied so that a rebuild during the run cannot mix builds.
const distCopy = path.join(work, 'dist');
fs.cpSync(path.join(root, 'dist'), distCopy, { recursive: true });
const distIndex = path.join(distCopy, 'index.js');
const t = await import(pathToFileURL(path.join(distCopy, 'transport', 'index.js')).href);
const lib = await import(pathToFileURL(distIndex).href);

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** W writer processes put `perWriter` deltas each, `batch` per push; then one merger run takes them all. */
async function throughput(writers, perWriter, batch) {
  const dir = path.join(work, `put-${writers}w-${batch}`);
  const url = path.join(dir, 'shared.git'), store = path.join(dir, 'merger');
  await t.initGitStore({ url, dir: store, plan: {} });
  const startAt = Date.now() + 1500;
  const runs = await Promise.all(Array.from({ length: writers }, (_, i) => new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [path.join(benchDir, 'transportPutWorker.mjs'), path.join(distCopy, 'transport', 'index.js'), url, path.join(dir, 'clones', `w${i}`), `w${i}`, String(perWriter), String(batch), String(startAt)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (b) => (out += b));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`writer w${i} exited ${code}`))));
  })));
  const putSeconds = (Math.max(...runs.map((r) => r.ended)) - Math.min(...runs.map((r) => r.started))) / 1000;
  const pushes = runs.reduce((a, r) => a + r.pushes, 0);
  const merger = await t.openGitTransport({ url, dir: store, role: 'merger' });
  const m0 = performance.now();
  const records = await t.runTransportMerger(lib.openStoreContext(store), merger, {});
  const mergeSeconds = (performance.now() - m0) / 1000;
  await merger.close();
  const deltas = writers * perWriter;
  const applied = records.reduce((a, r) => a + r.applied.length, 0);
  if (applied !== deltas) throw new Error(`merged ${applied} of ${deltas} deltas`);
  return {
    writers, deltas, batch, pushes,
    put: { seconds: round(putSeconds, 2), deltas_per_s: round(deltas / putSeconds), pushes_per_s: round(pushes / putSeconds, 1) },
    merge: { merges: records.length, seconds: round(mergeSeconds, 2), deltas_per_s: round(deltas / mergeSeconds) },
  };
}

/** One writer puts one delta per frame; a watch-mode merger expecting that writer closes each frame at once. */
async function latency(kind, frames) {
  const dir = path.join(work, `latency-${kind}`);
  const writer = 'w0';
  let writerT, mergerT, store;
  if (kind === 'git') {
    const url = path.join(dir, 'shared.git');
    store = path.join(dir, 'merger');
    await t.initGitStore({ url, dir: store, plan: { writers: [writer] } });
    writerT = await t.openGitTransport({ url, dir: path.join(dir, 'w0'), identity: writer });
    mergerT = await t.openGitTransport({ url, dir: store, role: 'merger', pollMs: 20 });
  } else {
    store = path.join(dir, 'store');
    lib.initStore(store, { writers: [writer] });
    writerT = t.createFsTransport(store);
    mergerT = t.createFsTransport(store);
  }
  const putAt = new Map(), merged = [];
  const abort = new AbortController();
  let waiting;
  const loop = t.runTransportMerger(lib.openStoreContext(store), mergerT, {
    watch: true, signal: abort.signal, pollMs: 20,
    onMerge: (r) => {
      merged.push(performance.now() - putAt.get(r.frame));
      waiting?.();
    },
  });
  for (let f = 1; f <= frames; f++) {
    const done = new Promise((r) => (waiting = r));
    putAt.set(f, performance.now());
    await writerT.put([Buffer.from(JSON.stringify({ frame: f, writer, utc: new Date().toISOString(), counters: { n: 1 } }))]);
    await done;
  }
  abort.abort();
  await loop;
  await writerT.close();
  await mergerT.close();
  return { transport: kind, frames, ms: { p50: round(percentile(merged, 50)), p95: round(percentile(merged, 95)), max: round(Math.max(...merged)) } };
}

const per = quick ? 200 : 1000;
const results = {
  bench: 'transports',
  date: new Date().toISOString(),
  node: process.version,
  git: (await import('node:child_process')).execFileSync('git', ['--version'], { encoding: 'utf8' }).trim(),
  cpus: os.cpus().length,
  loadavg: os.loadavg().map((x) => round(x, 2)),
  quick,
  note: 'git: a bare repository on local disk; each writer a process with its own clone (a spool: one fast-import commit per put, pushed; a rejected push fetches and re-creates the commit on the new tip). put = from the first put to the last accepted push; merge = one merger run (fetch, merge each frame, one commit per frame, push). Latency: one writer, one delta per frame, watch-mode merger expecting that writer: from the put call to the merge commit pushed (git) or the merge record written (fs).',
  throughput: [],
  latency: [],
};
for (const [writers, batch] of [[1, 50], [8, 50], [8, 250]]) {
  const perWriter = writers === 1 ? per * 2 : per;
  console.error(`transports: git throughput, ${writers} writer(s) × ${perWriter} deltas, ${batch} per push`);
  results.throughput.push(await throughput(writers, perWriter, batch));
}
for (const kind of ['fs', 'git']) {
  console.error(`transports: ${kind} latency from put to merged`);
  results.latency.push(await latency(kind, quick ? 10 : 40));
}
fs.mkdirSync(path.join(benchDir, 'results'), { recursive: true });
fs.writeFileSync(path.join(benchDir, 'results', 'transports.json'), JSON.stringify(results, null, 2) + '\n');
console.log('\ngit throughput (deltas/s)');
for (const r of results.throughput) console.log(`  ${r.writers} writer(s), ${r.deltas} deltas, ${r.batch}/push: put ${r.put.deltas_per_s}/s (${r.pushes} pushes, ${r.put.pushes_per_s}/s), merge ${r.merge.deltas_per_s}/s (${r.merge.merges} merges)`);
console.log('latency put → merged (ms)');
for (const r of results.latency) console.log(`  ${r.transport}: p50 ${r.ms.p50}, p95 ${r.ms.p95}, max ${r.ms.max}`);
console.log(`\nbench/results/transports.json written (load average ${results.loadavg.join(' ')} on ${results.cpus} cpus)`);
fs.rmSync(work, { recursive: true, force: true });
