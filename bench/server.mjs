#!/usr/bin/env node
// Benchmarks of `framelog serve` (src/server): SSE fan-out to 1,000 concurrent subscribers on
// loopback (events/s delivered, p50/p99 delivery latency), and the server's CPU cost per event
// with a 1 MiB and a 1 GiB stream behind it (the ratio must stay ≤ 1.2: the server reads only new
// bytes). One run writes bench/results/server.json.
//
//   npm run build                       # the server runs from dist/ (dist/cli/main.js serve)
//   node bench/server.mjs [--quick]     # --quick: 100 subscribers, a 64 MiB "large" stream
//
// The 1 GiB stream is built once under bench/.cache/server/ (gitignored) and reused; appends made
// by a run are cut off again at its end, so the next run starts from the same bytes.
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const cli = path.join(root, 'dist/cli/main.js');
const quick = process.argv.includes('--quick');
const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// Child mode: SSE subscribers. Each connection parses frames and records, per event, the delay
// from the writer's timestamp `t` (epoch ms, sub-ms) to its arrival.
if (process.argv[2] === '--subscribers') {
  const { url, count } = JSON.parse(process.argv[3]);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  let latencies = new Float64Array(1 << 20);
  let n = 0;
  let open = 0;
  const events = [];
  const connect = () =>
    new Promise((resolve, reject) => {
      const req = http.get(url, { agent }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`subscriber got ${res.statusCode}`));
        open++;
        let carry = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          const at = now();
          const text = carry + d;
          let pos = 0;
          for (let end = text.indexOf('\n\n', pos); end !== -1; end = text.indexOf('\n\n', pos)) {
            const t = text.indexOf('"t":', pos);
            if (t !== -1 && t < end) {
              if (n === latencies.length) {
                const bigger = new Float64Array(latencies.length * 2);
                bigger.set(latencies);
                latencies = bigger;
              }
              latencies[n++] = at - Number(text.slice(t + 4, text.indexOf(',', t)));
            }
            pos = end + 2;
          }
          carry = text.slice(pos);
        });
        res.once('data', () => resolve());
        res.on('error', () => undefined);
      });
      req.on('error', reject);
      events.push(req);
    });
  for (let i = 0; i < count; i += 50) await Promise.all(Array.from({ length: Math.min(50, count - i) }, connect));
  process.send({ ready: open });
  process.on('message', (m) => {
    if (m === 'report') {
      for (const r of events) r.destroy();
      process.send({ latencies: latencies.slice(0, n) }, () => process.exit(0)); // exit once the report is sent
    }
  });
  await new Promise(() => undefined);
}

if (!fs.existsSync(cli)) {
  console.error('bench/server: dist/cli/main.js is missing: run npm run build first');
  process.exit(1);
}
const { initStore } = await import(pathToFileURL(path.join(root, 'dist/store/storeContext.js')).href);
const { ensureToken } = await import(pathToFileURL(path.join(root, 'dist/server/token.js')).href);
const { openStreamAppender } = await import(pathToFileURL(path.join(root, 'dist/stream/index.js')).href);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

function newStore(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  initStore(dir);
  ensureToken(dir);
}

/** Starts `framelog serve` as its own process; resolves to {child, url}. */
function startServer(dir, extra = []) {
  const child = spawn(process.execPath, [cli, 'serve', '--dir', dir, '--port', '0', '--json', '--max-sse', '5000', '--max-sse-per-token', '5000', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ child, url: JSON.parse(out.split('\n')[0]).url });
    });
    child.on('exit', (c) => reject(new Error(`serve exited ${c}`)));
  });
}
const stop = (child) => new Promise((r) => (child.exitCode !== null ? r() : (child.on('exit', r), child.kill('SIGTERM'))));

/** CPU seconds the process has used (all its threads), from each thread's /proc schedstat (ns resolution). */
function cpuOf(pid) {
  let ns = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return ns / 1e9;
}

/** 1 KiB-ish records: what a receipt or an audit line looks like. */
function record(i) {
  return { t: now(), i, type: 'receipt', agent: `agent-${i % 97}`, pad: 'x'.repeat(160) };
}

async function subscribers(url, total, perChild) {
  const kids = [];
  for (let left = total; left > 0; left -= perChild) {
    const kid = fork(fileURLToPath(import.meta.url), ['--subscribers', JSON.stringify({ url, count: Math.min(perChild, left) })], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    kids.push(kid);
  }
  const ready = await Promise.all(kids.map((k) => new Promise((r, j) => { k.once('message', (m) => r(m.ready)); k.once('exit', (c) => j(new Error(`subscriber process exited ${c}`))); })));
  return {
    open: ready.reduce((a, b) => a + b, 0),
    async report() {
      const parts = await Promise.all(kids.map((k) => new Promise((r) => { k.removeAllListeners('exit'); k.once('message', (m) => r(m.latencies)); k.send('report'); })));
      const all = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts) {
        all.set(p, o);
        o += p.length;
      }
      return all.sort();
    },
  };
}

/** Appends `count` records at `rate` per second (in 10 ms ticks); returns the seconds it took. */
async function appendAtRate(app, count, rate, from = 0) {
  const t0 = now();
  let i = 0;
  while (i < count) {
    const due = Math.min(count, Math.floor(((now() - t0) / 1000) * rate) + 1);
    const batch = [];
    while (i < due) batch.push(record(from + i++));
    if (batch.length) await app.appendBatch(batch);
    await sleep(10 - ((now() - t0) % 10));
  }
  return (now() - t0) / 1000;
}

// ---------------------------------------------------------------------------------------------
// 1. Fan-out: 1,000 subscribers (in 2 processes) on one stream; a writer appends at a fixed rate.
async function fanout() {
  const subs = quick ? 100 : 1000;
  const rate = quick ? 100 : 200;
  const seconds = quick ? 3 : 10;
  const dir = path.join(benchDir, '.tmp', 'server', 'fanout');
  newStore(dir);
  const { child, url } = await startServer(dir);
  const app = openStreamAppender(dir, 'feed', { durability: 'none' });
  await app.append({ t: now(), warm: true });
  const s = await subscribers(`${url}/api/streams/feed/events`, subs, Math.ceil(subs / 2));
  if (s.open !== subs) throw new Error(`only ${s.open} of ${subs} subscribers connected`);
  const cpu0 = cpuOf(child.pid);
  const events = rate * seconds;
  const took = await appendAtRate(app, events, rate);
  await sleep(1000);
  const cpu1 = cpuOf(child.pid);
  const lat = await s.report();
  await app.close();
  await stop(child);
  const expected = events * subs;
  return {
    subscribers: subs,
    subscriberProcesses: 2,
    appendRatePerSec: rate,
    seconds: round(took, 2),
    events,
    deliveries: lat.length,
    expectedDeliveries: expected,
    deliveredEventsPerSec: Math.round(lat.length / took),
    latencyMs: { p50: round(pct(lat, 50)), p90: round(pct(lat, 90)), p99: round(pct(lat, 99)), max: round(lat[lat.length - 1]) },
    serverCpuSeconds: round(cpu1 - cpu0, 2),
    serverCpuUsPerDelivery: round(((cpu1 - cpu0) * 1e6) / lat.length, 2),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Per-event cost with a small and a large stream behind it.
const CHUNK = (() => {
  let text = '';
  for (let i = 0; text.length < (1 << 20) - 300; i++) text += JSON.stringify({ ts: '2026-04-19T14:30:22.120Z', i, type: 'receipt', agent: `agent-${i % 97}`, pad: 'y'.repeat(160) }) + '\n';
  return text;
})();

/** A store whose stream `big` holds `bytes` of records; the large one is built once and kept. */
function storeWithStream(name, bytes) {
  const dir = path.join(benchDir, '.cache', 'server', name);
  const file = path.join(dir, 'streams', 'big.ndjson');
  const meta = path.join(dir, 'bench-size.json');
  if (fs.existsSync(meta)) {
    const { size } = JSON.parse(fs.readFileSync(meta, 'utf8'));
    if (fs.existsSync(file) && fs.statSync(file).size >= size) {
      fs.truncateSync(file, size); // cut what the last run appended
      return { dir, file, size };
    }
  }
  newStore(dir);
  console.error(`bench/server: building a ${(bytes / 1048576).toFixed(0)} MiB stream under ${path.relative(root, dir)} (once)`);
  const fd = fs.openSync(file, 'a');
  const buf = Buffer.from(CHUNK);
  let size = 0;
  while (size + buf.length <= bytes) {
    fs.writeSync(fd, buf);
    size += buf.length;
  }
  fs.closeSync(fd);
  fs.writeFileSync(meta, JSON.stringify({ size }));
  return { dir, file, size };
}

async function perEventCost(label, bytes) {
  const { dir, file, size } = storeWithStream(label, bytes);
  const { child, url } = await startServer(dir);
  const subs = 10;
  const s = await subscribers(`${url}/api/streams/big/events`, subs, subs);
  // One more that resumes by cursor near the end: a reconnect must not read the file from its start.
  const resumeFrom = size - Buffer.byteLength(CHUNK.slice(CHUNK.lastIndexOf('\n', CHUNK.length - 2) + 1));
  const resumed = await new Promise((resolve, reject) => {
    const t0 = now();
    const req = http.get(`${url}/api/streams/big/events`, { headers: { 'last-event-id': String(resumeFrom) } }, (res) => {
      res.once('data', () => {
        res.once('data', () => {
          resolve(now() - t0);
          req.destroy();
        });
      });
    });
    req.on('error', reject);
  });
  const app = openStreamAppender(dir, 'big', { durability: 'none' });
  const events = quick ? 1000 : 4000;
  const rate = 1000;
  await sleep(300);
  const cpu0 = cpuOf(child.pid);
  await appendAtRate(app, events, rate);
  await sleep(500);
  const cpu1 = cpuOf(child.pid);
  const lat = await s.report();
  await app.close();
  await stop(child);
  fs.truncateSync(file, size);
  if (lat.length !== events * subs) throw new Error(`${label}: ${lat.length} deliveries, expected ${events * subs}`);
  return {
    streamBytes: size,
    subscribers: subs,
    events,
    serverCpuUsPerEvent: round(((cpu1 - cpu0) * 1e6) / events, 1),
    latencyMs: { p50: round(pct(lat, 50)), p99: round(pct(lat, 99)) },
    resumeNearEndMs: round(resumed, 1),
  };
}

const results = { bench: 'server', date: new Date().toISOString(), node: process.version, machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) }, command: `node bench/server.mjs${quick ? ' --quick' : ''}` };
results.notes = [
  'fan-out: one `framelog serve` process (dist/, defaults but --max-sse 5000); N subscribers are plain HTTP SSE clients split over 2 processes; the writer appends records {t, i, …} to the stream file through openStreamAppender (durability none) in 10 ms ticks at the given rate; latency = arrival time at the subscriber - t (same machine clock, performance.timeOrigin + now). Server CPU = the sum of /proc/PID/task/*/schedstat run time (every thread, ns resolution).',
  'per-event cost: the same server over a store whose stream holds 1 MiB or 1 GiB of records (built once under bench/.cache/server/, cut back after each run); 10 live subscribers; 1,000 events/s; cost = server CPU (user+system) / events, median of 3 rounds; the ratio large/small must stay ≤ 1.2. resumeNearEndMs: a client connecting with Last-Event-ID one record before the end gets its first record after this long (no read of the file from its start).',
];
console.error('bench/server: fan-out…');
results.fanout = await fanout();
console.error(JSON.stringify(results.fanout));
const rounds = quick ? 1 : 3;
const small = [];
const large = [];
for (let r = 0; r < rounds; r++) {
  console.error(`bench/server: per-event cost, round ${r + 1}/${rounds}…`);
  small.push(await perEventCost('stream-1mib', 1 << 20));
  large.push(await perEventCost(quick ? 'stream-64mib' : 'stream-1gib', quick ? 64 << 20 : 1 << 30));
}
const median = (xs) => [...xs].sort((a, b) => a.serverCpuUsPerEvent - b.serverCpuUsPerEvent)[Math.floor(xs.length / 2)];
results.perEventCost = { small: median(small), large: median(large), rounds: { small: small.map((x) => x.serverCpuUsPerEvent), large: large.map((x) => x.serverCpuUsPerEvent) } };
results.perEventCost.ratio = round(results.perEventCost.large.serverCpuUsPerEvent / results.perEventCost.small.serverCpuUsPerEvent, 3);
results.perEventCost.ok = results.perEventCost.ratio <= 1.2;
fs.mkdirSync(path.join(benchDir, 'results'), { recursive: true });
fs.writeFileSync(path.join(benchDir, 'results', 'server.json'), JSON.stringify(results, null, 2) + '\n');
console.log(JSON.stringify({ fanout: results.fanout, perEventCost: { small: results.perEventCost.small, large: results.perEventCost.large, ratio: results.perEventCost.ratio } }, null, 2));
if (!results.perEventCost.ok) {
  console.error(`bench/server: per-event cost ratio ${results.perEventCost.ratio} is over 1.2`);
  process.exitCode = 1;
}
