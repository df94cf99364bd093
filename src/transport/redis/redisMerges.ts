import type { Redis } from 'ioredis';
import { FramelogError } from '../../errors.js';
import type { MergerLease, PublishedHead, PublishedMerge } from '../transport.js';
import type { RedisKeys } from './redisKeys.js';
import { leaseHolderOf } from './redisLease.js';
import { PUBLISH_MERGES_SCRIPT } from './redisScripts.js';
import { asBuffer, replyText, runScript } from './redisScript.js';

/** How many published merges one `XRANGE` of `readMerges` fetches. */
const READ_PAGE = 64;

/**
 * Publishes merges in one Lua script: nothing is written unless the lease still holds
 * `<holder>|<token>` of `lease` (else FramelogError `lease-lost`) and the indexes follow the
 * published head one by one (else `diverged`); then each merge becomes the entry `<index>-0` of the
 * merges stream (fields frame, record SHA-256, bundle bytes) and the head moves to the last one.
 */
export async function publishRedisMerges(redis: Redis, keys: RedisKeys, merges: PublishedMerge[], lease: MergerLease): Promise<void> {
  if (merges.length === 0) return;
  const args: Array<string | Buffer> = [`${lease.holder}|${lease.token}`];
  merges.forEach((m, i) => {
    if (!Number.isSafeInteger(m.index) || m.index < 1) throw new FramelogError(`publishMerges: merges[${i}].index ${m.index} is not a positive whole number`, 'bad-argument');
    if (!Number.isSafeInteger(m.frame)) throw new FramelogError(`publishMerges: merges[${i}].frame ${m.frame} is not a whole number`, 'bad-argument');
    args.push(String(m.index), String(m.frame), m.recordSha256, asBuffer(m.bundle));
  });
  const reply = ((await runScript(redis, PUBLISH_MERGES_SCRIPT, [keys.lease, keys.head, keys.merges], args)) as unknown[]).map(replyText);
  if (reply[0] === 'ok') return;
  if (reply[0] === 'lease-lost') {
    const now = reply[1] ? `held by ${leaseHolderOf(reply[1])} (${reply[1]})` : 'held by nobody';
    throw new FramelogError(`publishMerges on ${keys.merges}: token ${lease.token} of ${lease.holder} is not the current lease (${now}); nothing published`, 'lease-lost');
  }
  if (reply[0] === 'diverged') {
    throw new FramelogError(`publishMerges on ${keys.merges}: merge index ${reply[2]} does not follow the published head ${reply[1]} (want ${Number(reply[1]) + 1}, then consecutive); nothing published`, 'diverged');
  }
  throw new FramelogError(`publishMerges on ${keys.merges}: unexpected script reply ${JSON.stringify(reply)}`, 'redis-reply');
}

/** The last published merge, or undefined when none was published. */
export async function redisPublishedHead(redis: Redis, keys: RedisKeys): Promise<PublishedHead | undefined> {
  const [index, frame, recordSha256] = await redis.hmget(keys.head, 'index', 'frame', 'recordSha256');
  if (index === null) return undefined;
  return { index: Number(index), frame: Number(frame), recordSha256: recordSha256 ?? '' };
}

/** Fields of a stream entry as a map (field names as text, values as Buffers). */
export function entryFields(fields: unknown): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const list = (fields ?? []) as Buffer[];
  for (let i = 0; i + 1 < list.length; i += 2) out.set(list[i].toString('latin1'), list[i + 1]);
  return out;
}

/** The published merges with `index ≥ fromIndex`, in index order, a page of `XRANGE` at a time. */
export async function* readRedisMerges(redis: Redis, keys: RedisKeys, fromIndex: number): AsyncIterable<PublishedMerge> {
  let start = `${Math.max(1, Math.floor(fromIndex))}-0`;
  for (;;) {
    const page = (await redis.callBuffer('XRANGE', [keys.merges, start, '+', 'COUNT', READ_PAGE])) as Array<[Buffer, Buffer[]]>;
    for (const [id, fields] of page) {
      const f = entryFields(fields);
      const bundle = f.get('b');
      const frame = f.get('f');
      if (!bundle || !frame) throw new FramelogError(`${keys.merges} entry ${id.toString()} lacks its frame or bundle`, 'redis-reply');
      yield { index: Number(id.toString().split('-')[0]), frame: Number(frame.toString()), recordSha256: f.get('s')?.toString() ?? '', bundle };
    }
    if (page.length < READ_PAGE) return;
    start = `(${page[page.length - 1][0].toString()}`;
  }
}

/**
 * Deletes the published merges with `index < keepFromIndex` (`XTRIM MINID`: entry ids are
 * `<index>-0`), the head excepted; returns how many went.
 */
export async function trimRedisMerges(redis: Redis, keys: RedisKeys, keepFromIndex: number): Promise<number> {
  const head = await redisPublishedHead(redis, keys);
  if (!head) return 0;
  const keep = Math.max(1, Math.min(Math.floor(keepFromIndex), head.index));
  return Number(await redis.call('XTRIM', keys.merges, 'MINID', `${keep}-0`));
}
