import type { Redis } from 'ioredis';
import { FramelogError } from '../../errors.js';
import type { PutOutcome } from '../transport.js';
import { transportKey } from '../transportKey.js';
import type { RedisKeys } from './redisKeys.js';
import { PUT_SCRIPT } from './redisScripts.js';
import { asBuffer, replyText, runScript } from './redisScript.js';

/** The default size limit of one delta (Redis's own `proto-max-bulk-len` is 512 MB). */
export const DEFAULT_MAX_DELTA_BYTES = 64 * 1024 * 1024;
/** One script call carries at most this many deltas (the script unpacks twice as many values; Lua's C stack takes ~8000)… */
const CHUNK_DELTAS = 2048;
/** …and this many bytes (Redis buffers a whole command, and a script blocks the server while it runs). */
const CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * Puts deltas in one Lua script call (several, pipelined on the one connection, only past 2048
 * deltas or 64 MiB): for each, a key still in the pending hash is a duplicate; otherwise `XADD` of
 * the bytes exactly as received plus `HSET pending key id`. Every size is checked before anything is
 * sent, so a delta over `maxDeltaBytes` (FramelogError `too-large`) stores nothing of the call.
 * Acknowledged once Redis replied: the script ran, its writes are in the node's memory and, as far
 * as its persistence settings go, on its disk (see {@link readRedisDurability}).
 */
export async function putRedisDeltas(redis: Redis, keys: RedisKeys, deltas: Uint8Array[], maxDeltaBytes: number): Promise<PutOutcome[]> {
  deltas.forEach((d, i) => {
    if (d.byteLength > maxDeltaBytes) {
      throw new FramelogError(`put: delta #${i} is ${d.byteLength} bytes, over the redis transport's limit of ${maxDeltaBytes} bytes (maxDeltaBytes); nothing of this put was stored`, 'too-large');
    }
  });
  if (deltas.length === 0) return [];
  const ids = deltas.map(transportKey);
  const calls: Array<Promise<unknown>> = [];
  let args: Array<string | Buffer> = [keys.arrivals];
  let bytes = 0;
  const send = (): void => {
    calls.push(runScript(redis, PUT_SCRIPT, [keys.deltas, keys.pending], args));
    args = [keys.arrivals];
    bytes = 0;
  };
  deltas.forEach((d, i) => {
    if (args.length > 1 && (args.length > 2 * CHUNK_DELTAS || bytes + d.byteLength > CHUNK_BYTES)) send();
    args.push(ids[i], asBuffer(d));
    bytes += d.byteLength;
  });
  send();
  const replies = (await Promise.all(calls)).flatMap((r) => r as unknown[]);
  if (replies.length !== deltas.length) throw new FramelogError(`put on ${keys.deltas}: the script answered ${replies.length} outcomes for ${deltas.length} deltas`, 'redis-reply');
  return replies.map((r, i) => ({ id: ids[i], duplicate: replyText(r) === '0' }));
}
