// One writer process of bench/transports/redis.mjs: builds its deltas first, waits for the common
// start time, then puts them `batch` per call — through the framelog redis transport (one Lua
// script call per put: dedup + XADD), or raw (one ioredis pipeline of XADDs per batch, no dedup).
// Prints {writer, started, ended, puts} as JSON.
//
//   node redisWorker.mjs <dist> <url> <store> <writer> <deltas> <batch> <startAt> <transport|raw>
import { pathToFileURL } from 'node:url';
import { benchDeltas, startAtTime, timedPuts } from './workerKit.mjs';

const [dist, url, store, writer, deltasArg, batchArg, startAt, mode] = process.argv.slice(2);
const deltas = Number(deltasArg), batch = Number(batchArg);
const bytes = benchDeltas(writer, deltas);

let put, close;
if (mode === 'raw') {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { protocol: 2 });
  await redis.ping();
  const stream = `framelog:{${store}}:raw`;
  put = async (list) => {
    const p = redis.pipeline();
    for (const b of list) p.xadd(stream, '*', 'd', b);
    const replies = await p.exec();
    for (const [err] of replies) if (err) throw err;
  };
  close = () => redis.quit();
} else {
  const { openRedisTransport } = await import(pathToFileURL(`${dist}/transport/redis/redisTransport.js`).href);
  const t = await openRedisTransport({ url, store });
  put = (list) => t.put(list);
  close = () => t.close();
}

await timedPuts({ writer, bytes, batch, put, close, start: startAtTime(startAt) });
