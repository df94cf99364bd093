#!/usr/bin/env node
// Transport benchmarks: deltas/s through git (writer processes in their own clones pushing to one
// bare repository on local disk), with 1 and 8 writers, then the merger pulling, merging and
// pushing what they sent; the same for PostgreSQL, Redis Streams, NATS JetStream and Kafka, each beside
// its raw client doing the same work from the same processes (batched INSERT, pipelined XADD,
// plain JetStream publish: bench/transports/<engine>.mjs); and end-to-end latency from put to
// merged for every transport. Writes bench/results/transports.json.
//
//   npm run build && node bench/transports.mjs [--quick] [--only=postgres,redis,nats,kafka]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { putToMerged } from './transports/putToMerged.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const quick = process.argv.includes('--quick');
const work = path.join(benchDir, '.tmp', 'transports');
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
// The library as built when the run starts, copied so that a rebuild during the run cannot mix builds.
const distCopy = path.join(work, 'dist');
fs.cpSync(path.join(root, 'dist'), distCopy, { recursive: true });
const distIndex = path.join(distCopy, 'internals.js');
const t = await import(pathToFileURL(path.join(distCopy, 'transport', 'index.js')).href);
const lib = await import(pathToFileURL(distIndex).href);

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
  const setup = async (dir, writer) => {
    if (kind === 'git') {
      const url = path.join(dir, 'shared.git'), storeDir = path.join(dir, 'merger');
      await t.initGitStore({ url, dir: storeDir, plan: { writers: [writer] } });
      return { storeDir, writerT: await t.openGitTransport({ url, dir: path.join(dir, writer), identity: writer }), mergerT: await t.openGitTransport({ url, dir: storeDir, role: 'merger', pollMs: 20 }) };
    }
    lib.initStore(dir, { writers: [writer] });
    return { storeDir: dir, writerT: t.createFsTransport(dir), mergerT: t.createFsTransport(dir) };
  };
  return putToMerged({ dist: distCopy, frames, name: kind, setup });
}

/** Is anything listening on host:port (a service the engine benches need)? */
function answers(url, port) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port || port) });
    sock.setTimeout(1500, () => { sock.destroy(); resolve(false); });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

const ENGINES = [
  { name: 'postgres', url: process.env.FRAMELOG_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test', port: 5432, raw: 'batched INSERT … SELECT FROM unnest(…) into a plain table, one transaction per batch' },
  { name: 'redis', url: process.env.FRAMELOG_REDIS_URL ?? 'redis://127.0.0.1:6379', port: 6379, raw: 'one pipeline of XADDs per batch, no dedup' },
  { name: 'nats', url: process.env.FRAMELOG_NATS_URL ?? 'nats://127.0.0.1:4222', port: 4222, raw: 'plain JetStream publish of the batch, all PubAcks awaited, no Nats-Msg-Id' },
  { name: 'kafka', url: process.env.FRAMELOG_KAFKA_URL ?? 'kafka://127.0.0.1:9092', port: 9092, raw: 'the same idempotent acks=all producer sending the batch to a plain topic, no key' },
];
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');

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
  engines: {},
};
for (const [writers, batch] of (only ? [] : [[1, 50], [8, 50], [8, 250]])) {
  const perWriter = writers === 1 ? per * 2 : per;
  console.error(`transports: git throughput, ${writers} writer(s) × ${perWriter} deltas, ${batch} per push`);
  results.throughput.push(await throughput(writers, perWriter, batch));
}
for (const kind of (only ? [] : ['fs', 'git'])) {
  console.error(`transports: ${kind} latency from put to merged`);
  results.latency.push(await latency(kind, quick ? 10 : 40));
}
// The engines: each transport against its raw client, the same processes and batches; medians of
// the rounds each module runs (interleaved transport/raw trials).
for (const e of ENGINES) {
  if (only && !only.includes(e.name)) continue;
  if (!(await answers(e.url, e.port))) {
    console.error(`transports: ${e.name} does not answer at ${e.url}: skipped`);
    results.engines[e.name] = { skipped: `no ${e.name} at ${e.url}` };
    continue;
  }
  const mod = await import(pathToFileURL(path.join(benchDir, 'transports', `${e.name}.mjs`)).href);
  const out = { raw_client: e.raw, throughput: [], latency: undefined };
  for (const writers of [1, 8]) {
    const perWriter = quick ? 500 : writers === 1 ? 10_000 : 2_500;
    console.error(`transports: ${e.name}, ${writers} writer process(es) × ${perWriter} deltas, 100 per put, transport vs raw client`);
    out.throughput.push({ writers, perWriter, batch: 100, ...(await mod.measure({ dist: distCopy, writers, perWriter, batch: 100, quick })) });
  }
  console.error(`transports: ${e.name} latency from put to merged`);
  out.latency = await mod.latency({ dist: distCopy, frames: quick ? 10 : 40 });
  results.engines[e.name] = out;
}

if (only) {
  // Keep the other parts of the last full run.
  const file = path.join(benchDir, 'results', 'transports.json');
  if (fs.existsSync(file)) {
    const prev = JSON.parse(fs.readFileSync(file, 'utf8'));
    results.throughput = prev.throughput ?? [];
    results.latency = prev.latency ?? [];
    results.engines = { ...(prev.engines ?? {}), ...results.engines };
  }
}
fs.mkdirSync(path.join(benchDir, 'results'), { recursive: true });
fs.writeFileSync(path.join(benchDir, 'results', 'transports.json'), JSON.stringify(results, null, 2) + '\n');
console.log('\ngit throughput (deltas/s)');
for (const r of results.throughput) console.log(`  ${r.writers} writer(s), ${r.deltas} deltas, ${r.batch}/push: put ${r.put.deltas_per_s}/s (${r.pushes} pushes, ${r.put.pushes_per_s}/s), merge ${r.merge.deltas_per_s}/s (${r.merge.merges} merges)`);
console.log('latency put → merged (ms)');
for (const r of results.latency) console.log(`  ${r.transport}: p50 ${r.ms.p50}, p95 ${r.ms.p95}, max ${r.ms.max}`);
console.log('\nengines: deltas/s through the transport vs its raw client (same processes, 100 per put)');
for (const [name, r] of Object.entries(results.engines)) {
  if (r.skipped) { console.log(`  ${name}: skipped (${r.skipped})`); continue; }
  for (const t of r.throughput) console.log(`  ${name}, ${t.writers} writer(s): ${t.transport.deltas_per_s}/s vs raw ${t.raw.deltas_per_s}/s = ${Math.round((t.transport.deltas_per_s / t.raw.deltas_per_s) * 100)}%`);
  const l = r.latency?.ms ?? r.latency;
  if (l) console.log(`  ${name} latency put → merged: p50 ${l.p50} ms, p95 ${l.p95} ms, max ${l.max} ms`);
}
console.log(`\nbench/results/transports.json written (load average ${results.loadavg.join(' ')} on ${results.cpus} cpus)`);
fs.rmSync(work, { recursive: true, force: true });
