import { FramelogError } from '../../errors.js';

/** A store name: letters, digits, `_` and `-` (it becomes part of every Redis key). */
export const REDIS_STORE_NAME = /^[A-Za-z0-9_-]{1,200}$/;

/** The Redis keys of one store. */
export interface RedisKeys {
  /** `framelog:{<store>}:`: every key starts with it; the `{…}` hash tag keeps them in one cluster slot. */
  prefix: string;
  /** The stream of pending deltas (fields `k`: the transport key, `d`: the bytes). */
  deltas: string;
  /** Hash: transport key → stream id, for the deltas put and not yet acknowledged (dedup). */
  pending: string;
  /** String `<holder>|<token>` with a TTL: the merger lease. */
  lease: string;
  /** Counter: the last fencing token handed out. */
  fence: string;
  /** Stream of published merges, entry id `<index>-0`. */
  merges: string;
  /** Hash `index`, `frame`, `recordSha256`: the last published merge. */
  head: string;
  /** Pub/sub channel the put script announces new deltas on (a wake-up only: the merger also polls). */
  arrivals: string;
}

/** The consumer group every merger reads the deltas stream through. */
export const MERGER_GROUP = 'mergers';

/** Checks the store name and returns its keys; the error names the bad name and the rule. */
export function redisKeys(store: string): RedisKeys {
  if (typeof store !== 'string' || !REDIS_STORE_NAME.test(store)) {
    throw new FramelogError(`redis store name ${JSON.stringify(store)}: use 1–200 letters, digits, "_" or "-"`, 'bad-argument');
  }
  const prefix = `framelog:{${store}}:`;
  return {
    prefix,
    deltas: `${prefix}deltas`,
    pending: `${prefix}pending`,
    lease: `${prefix}lease`,
    fence: `${prefix}fence`,
    merges: `${prefix}merges`,
    head: `${prefix}head`,
    arrivals: `${prefix}arrivals`,
  };
}

/** Every key of the store, for removing a namespace (tests, benches). */
export function allRedisKeys(k: RedisKeys): string[] {
  return [k.deltas, k.pending, k.lease, k.fence, k.merges, k.head];
}
