// The Redis Streams transport in bench/transports.mjs: deltas/s put by W writer processes through
// the transport (one Lua script call per put: pending-key dedup + XADD + HSET) against the same
// processes and batches through raw ioredis (one pipeline of XADDs per batch, no dedup), and the
// latency from a put to its merge with a watch-mode merger.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runAlone, runWriterProcesses, summarize } from './engineBench.mjs';
import { putToMerged } from './putToMerged.mjs';

const URL_ = process.env.FRAMELOG_REDIS_URL ?? 'redis://127.0.0.1:6379';
const load = (dist, file) => import(pathToFileURL(path.join(dist, file)).href);

/** W worker processes put `perWriter` deltas each, `batch` per call, started together; seconds from the first start to the last end. */
const runWriters = (dist, store, mode, writers, perWriter, batch) => runWriterProcesses({
  worker: 'redisWorker.mjs', writers, leadMs: 1500, label: `redis ${mode}`,
  argsOf: (i, startAt) => [dist, URL_, store, `w${i}`, String(perWriter), String(batch), String(startAt), mode],
});

/**
 * Throughput of puts through the transport and through raw pipelined XADDs, the same processes and
 * batches, interleaved (3 trials, medians; 1 with `quick`). Checks every delta arrived.
 */
export async function measure({ dist, writers, perWriter, batch, quick }) {
  const { Redis } = await import('ioredis');
  const { dropRedisStore } = await load(dist, 'transport/redis/dropRedisStore.js');
  const admin = new Redis(URL_, { protocol: 2 });
  const deltas = writers * perWriter;
  const seconds = { transport: [], raw: [] };
  try {
    for (let trial = 0; trial < (quick ? 1 : 3); trial++) {
      for (const mode of ['transport', 'raw']) {
        const store = `bench-${randomBytes(5).toString('hex')}`;
        try {
          seconds[mode].push(await runWriters(dist, store, mode, writers, perWriter, batch));
          const stream = mode === 'raw' ? `framelog:{${store}}:raw` : `framelog:{${store}}:deltas`;
          const n = await admin.xlen(stream);
          if (n !== deltas) throw new Error(`redis ${mode}: ${n} of ${deltas} deltas in ${stream}`);
        } finally {
          await admin.del(`framelog:{${store}}:raw`);
          await dropRedisStore(URL_, store);
        }
      }
    }
    return summarize({ writers, perWriter, batch, seconds });
  } finally {
    await admin.quit();
  }
}

/** One writer, one delta per frame, a watch-mode merger expecting that writer: ms from the put call to the merge. */
export async function latency({ dist, frames }) {
  const { openRedisTransport } = await load(dist, 'transport/redis/redisTransport.js');
  const { dropRedisStore } = await load(dist, 'transport/redis/dropRedisStore.js');
  const store = `bench-lat-${randomBytes(5).toString('hex')}`;
  return putToMerged({ dist, frames, name: 'redis', open: () => openRedisTransport({ url: URL_, store }), drop: () => dropRedisStore(URL_, store) });
}

// Run alone: node bench/transports/redis.mjs [--quick] (uses dist/ as built).
if (process.argv[1] === fileURLToPath(import.meta.url)) await runAlone('redis', { measure, latency });
