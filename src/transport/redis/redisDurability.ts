import type { Redis } from 'ioredis';
import { replyText } from './redisScript.js';

/** How far an acknowledged put survives on the Redis node, from its persistence settings. */
export type RedisPersistence = 'fsync-always' | 'fsync-everysec' | 'fsync-os' | 'snapshots' | 'memory-only' | 'unknown';

/** What `CONFIG GET appendonly appendfsync save` said, and what it means for an acknowledged put. */
export interface RedisDurability {
  persistence: RedisPersistence;
  /** One line for people: the settings and what a Redis restart or a host crash loses. */
  summary: string;
  /** True only with `appendonly yes` + `appendfsync always`: the put's reply comes after the fsync. */
  onDiskWhenAcknowledged: boolean;
  appendonly?: string;
  appendfsync?: string;
  save?: string;
}

/**
 * Reads the node's persistence settings. A server that refuses `CONFIG GET` (managed services often
 * rename or forbid it) gives `unknown`, with the refusal in the summary.
 */
export async function readRedisDurability(redis: Redis): Promise<RedisDurability> {
  let reply: unknown;
  try {
    reply = await redis.call('CONFIG', ['GET', 'appendonly', 'appendfsync', 'save']);
  } catch (e) {
    return { persistence: 'unknown', onDiskWhenAcknowledged: false, summary: `persistence unknown (CONFIG GET refused: ${(e as Error).message}); treat acknowledged puts as held in memory only` };
  }
  const flat = (reply as unknown[]).map(replyText);
  const conf = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) conf.set(flat[i], flat[i + 1]);
  return describeDurability(conf.get('appendonly'), conf.get('appendfsync'), conf.get('save'));
}

/** What the three settings mean for an acknowledged put (pure, for tests and docs). */
export function describeDurability(appendonly: string | undefined, appendfsync: string | undefined, save: string | undefined): RedisDurability {
  const base = { appendonly, appendfsync, save, onDiskWhenAcknowledged: false };
  const settings = `appendonly ${appendonly ?? '?'}, appendfsync ${appendfsync ?? '?'}, save "${save ?? '?'}"`;
  if (appendonly === 'yes' && appendfsync === 'always') {
    return { ...base, persistence: 'fsync-always', onDiskWhenAcknowledged: true, summary: `${settings}: an acknowledged put is fsynced to this node's append-only file before the reply (replicas are not waited for)` };
  }
  if (appendonly === 'yes' && appendfsync === 'everysec') {
    return { ...base, persistence: 'fsync-everysec', summary: `${settings}: acknowledged puts reach the disk about once a second; a crash of the Redis host can lose the last ~1 s of them` };
  }
  if (appendonly === 'yes') {
    return { ...base, persistence: 'fsync-os', summary: `${settings}: the OS decides when the append-only file reaches the disk; a crash of the Redis host can lose ~30 s of acknowledged puts` };
  }
  if (appendonly === 'no' && save) {
    return { ...base, persistence: 'snapshots', summary: `${settings}: only RDB snapshots reach the disk; a Redis restart loses every put since the last snapshot` };
  }
  if (appendonly === 'no') {
    return { ...base, persistence: 'memory-only', summary: `${settings}: nothing reaches the disk; a Redis restart loses every pending delta` };
  }
  return { ...base, persistence: 'unknown', summary: `${settings}: persistence unknown; treat acknowledged puts as held in memory only` };
}
