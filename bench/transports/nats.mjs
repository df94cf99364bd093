// The NATS JetStream transport in the transports bench: deltas/s put by W writer processes through
// the transport (each put publishes all its deltas at once, each with its Nats-Msg-Id, and awaits
// every PubAck) against the same processes and batches publishing the same bytes raw into a plain
// stream (no Nats-Msg-Id, all PubAcks awaited), and the latency from a put to its merge with a
// watch-mode merger. Uses the server at FRAMELOG_NATS_URL (default nats://127.0.0.1:4222).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runAlone, summarize } from './engineBench.mjs';
import { putToMerged } from './putToMerged.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const URL_ = process.env.FRAMELOG_NATS_URL ?? 'nats://127.0.0.1:4222';
const load = (dist, file) => import(pathToFileURL(path.join(dist, file)).href);

/**
 * W worker processes put `perWriter` deltas each, `batch` per call; they start together once every
 * one of them is connected. Seconds from the first start to the last end.
 */
async function runWriters(dist, target, mode, writers, perWriter, batch) {
  const children = [];
  const ready = [];
  const results = Array.from({ length: writers }, (_, i) => new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [path.join(here, 'natsWorker.mjs'), dist, URL_, target, `w${i}`, String(perWriter), String(batch), mode], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(c);
    let out = '';
    ready.push(new Promise((r) => c.stdout.on('data', (b) => {
      out += b;
      if (out.startsWith('ready\n')) r();
    })));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length))) : reject(new Error(`nats ${mode} writer w${i} exited ${code}`))));
  }));
  await Promise.race([Promise.all(ready), Promise.all(results)]);
  for (const c of children) c.stdin.end('go\n');
  const runs = await Promise.all(results);
  return (Math.max(...runs.map((r) => r.ended)) - Math.min(...runs.map((r) => r.started))) / 1000;
}

/**
 * Throughput of puts through the transport and raw, the same processes and batches, interleaved
 * (3 trials, medians; 1 with `quick`). Checks that every delta is in its stream.
 */
export async function measure({ dist, writers, perWriter, batch, quick }) {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager, StorageType } = await import('@nats-io/jetstream');
  const { openNatsTransport } = await load(dist, 'transport/nats/natsTransport.js');
  const { dropNatsStore } = await load(dist, 'transport/nats/dropNatsStore.js');
  const nc = await connect({ servers: URL_.split(','), name: 'bench admin' });
  const jsm = await jetstreamManager(nc);
  const deltas = writers * perWriter;
  const seconds = { transport: [], raw: [] };
  try {
    for (let trial = 0; trial < (quick ? 1 : 3); trial++) {
      for (const mode of ['transport', 'raw']) {
        const id = `bench_${randomBytes(5).toString('hex')}`;
        const stream = mode === 'raw' ? `BENCH_RAW_${id}` : `FRAMELOG_DELTAS_${id}`;
        try {
          if (mode === 'raw') await jsm.streams.add({ name: stream, subjects: [`bench.${id}.>`], storage: StorageType.File });
          else await (await openNatsTransport({ url: URL_, store: id })).close(); // creates the store's streams
          seconds[mode].push(await runWriters(dist, id, mode, writers, perWriter, batch));
          const n = (await jsm.streams.info(stream)).state.messages;
          if (n !== deltas) throw new Error(`nats ${mode}: ${n} of ${deltas} deltas in ${stream}`);
        } finally {
          if (mode === 'raw') await jsm.streams.delete(stream);
          else await dropNatsStore({ url: URL_, store: id });
        }
      }
    }
    return summarize({ writers, perWriter, batch, seconds });
  } finally {
    await nc.close();
  }
}

/** One writer, one delta per frame, a watch-mode merger expecting that writer: ms from the put call to the merge. */
export async function latency({ dist, frames }) {
  const { openNatsTransport } = await load(dist, 'transport/nats/natsTransport.js');
  const { dropNatsStore } = await load(dist, 'transport/nats/dropNatsStore.js');
  const store = `bench_lat_${randomBytes(5).toString('hex')}`;
  return putToMerged({ dist, frames, name: 'nats', open: () => openNatsTransport({ url: URL_, store }), drop: () => dropNatsStore({ url: URL_, store }) });
}

// Run alone: node bench/transports/nats.mjs [--quick] (uses dist/ as built).
if (process.argv[1] === fileURLToPath(import.meta.url)) await runAlone('nats', { measure, latency });
