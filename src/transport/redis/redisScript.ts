import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script run by its SHA-1 (`EVALSHA`), with its source at hand for a server that has not cached it. */
export interface RedisScript {
  readonly lua: string;
  readonly sha: string;
}

/** Names a Lua source by its SHA-1, as Redis's script cache does. */
export function redisScript(lua: string): RedisScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** Redis arguments as ioredis sends them byte for byte: a `Uint8Array` becomes a `Buffer` over the same memory. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Runs a script in one round trip: `EVALSHA`, and only when the server answers `NOSCRIPT` (a
 * restarted or flushed Redis) `EVAL` with the source, which caches it again. Replies come back as
 * Buffers (`callBuffer`), so binary strings stay intact.
 */
export async function runScript(redis: Redis, s: RedisScript, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
  try {
    return await redis.callBuffer('EVALSHA', [s.sha, keys.length, ...keys, ...args]);
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
    return redis.callBuffer('EVAL', [s.lua, keys.length, ...keys, ...args]);
  }
}

/** A reply element as text (Buffers from `callBuffer`, numbers from integer replies). */
export function replyText(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}
