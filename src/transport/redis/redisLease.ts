import type { Redis } from 'ioredis';
import { FramelogError } from '../../errors.js';
import type { LeaseOptions, MergerLease } from '../transport.js';
import type { RedisKeys } from './redisKeys.js';
import { ACQUIRE_LEASE_SCRIPT, RELEASE_LEASE_SCRIPT, RENEW_LEASE_SCRIPT } from './redisScripts.js';
import { replyText, runScript } from './redisScript.js';
import { abortableSleep as sleep } from '../abortableSleep.js';
import { holdRenewingLease } from '../holdRenewingLease.js';

/** The holder part of a lease value `<holder>|<token>`. */
export function leaseHolderOf(value: string): string {
  const bar = value.lastIndexOf('|');
  return bar < 0 ? value : value.slice(0, bar);
}


/**
 * The Redis merger lease: one Lua script takes it when free — `INCR :fence` gives the fencing token
 * and `SET :lease <holder>|<token> PX ttl` the hold, atomically, so a token is spent only by a
 * holder. While another merger holds it, asks again every `ttlMs / 4` (calling `onWait`). Once held,
 * {@link holdRenewingLease} renews it `ttlMs / 3` after each confirmed renewal with a
 * compare-and-PEXPIRE; a renewal that finds another value or fails, or no renewal sent in the last
 * `ttlMs` confirmed, aborts `lost` (the key may have expired on the server by then). `release`
 * deletes the key only while it is still ours.
 */
export async function acquireRedisLease(redis: Redis, keys: RedisKeys, o: LeaseOptions): Promise<MergerLease> {
  if (typeof o.holder !== 'string' || o.holder.length === 0) throw new FramelogError('redis lease: holder must be a non-empty string', 'bad-argument');
  if (!Number.isSafeInteger(o.ttlMs) || o.ttlMs < 30) throw new FramelogError(`redis lease: ttlMs ${o.ttlMs} must be a whole number of milliseconds ≥ 30`, 'bad-argument');
  const pollMs = Math.max(10, Math.floor(o.ttlMs / 4));
  let token = 0;
  let sentAt = 0;
  for (;;) {
    if (o.signal?.aborted) throw o.signal.reason;
    sentAt = Date.now();
    const [got, what] = (await runScript(redis, ACQUIRE_LEASE_SCRIPT, [keys.lease, keys.fence], [o.holder, o.ttlMs])) as [number, Buffer | number];
    if (got === 1) {
      token = Number(what);
      break;
    }
    o.onWait?.(leaseHolderOf(replyText(what)));
    await sleep(pollMs, o.signal);
  }
  return holdRedisLease(redis, keys, o.holder, token, o.ttlMs, sentAt);
}

/** Keeps an acquired lease renewed (a compare-and-PEXPIRE every `ttlMs / 3`) until it is released or lost. */
function holdRedisLease(redis: Redis, keys: RedisKeys, holder: string, token: number, ttlMs: number, acquiredAt: number): MergerLease {
  const value = `${holder}|${token}`;
  return holdRenewingLease(
    { token, holder, name: `redis lease ${keys.lease} (token ${token})`, renewEveryMs: Math.max(10, Math.floor(ttlMs / 3)), confirmWithinMs: ttlMs, acquiredAt },
    {
      async renew() {
        const r = await runScript(redis, RENEW_LEASE_SCRIPT, [keys.lease], [value, ttlMs]);
        if (r === 1) return undefined;
        return replyText(r) === '' ? 'it expired before a renewal' : `now held by ${leaseHolderOf(replyText(r))}`;
      },
      async release() {
        await runScript(redis, RELEASE_LEASE_SCRIPT, [keys.lease], [value]);
      },
    },
  );
}
