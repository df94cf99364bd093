import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis, type RedisOptions } from 'ioredis';
import { FramelogError } from '../../errors.js';
import type { LeaseOptions, MergerLease, PublishedHead, PublishedMerge, Transport, Failover } from '../transport.js';
import { createRedisConsumer, ensureMergerGroup } from './redisConsumer.js';
import { readRedisDurability, type RedisDurability } from './redisDurability.js';
import { redisKeys, type RedisKeys } from './redisKeys.js';
import { acquireRedisLease } from './redisLease.js';
import { publishRedisMerges, readRedisMerges, trimRedisMerges, redisPublishedHead } from './redisMerges.js';
import { DEFAULT_MAX_DELTA_BYTES, putRedisDeltas } from './redisPut.js';
import { ALL_SCRIPTS } from './redisScripts.js';

/** Options of {@link openRedisTransport}. */
export interface RedisTransportOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS. */
  url: string;
  /** Names the store's keys (`framelog:{<store>}:…`): letters, digits, `_` and `-`. */
  store: string;
  /** A larger delta is refused at put (default 64 MiB). */
  maxDeltaBytes?: number;
  /** This merger's consumer name in the group `mergers` (default `<host>-<pid>-<random>`). */
  consumer?: string;
  /** Entries per `XREADGROUP` (default 5000). */
  readCount?: number;
  /** One `pull` stops once it holds this many bytes (default 256 MiB); the rest comes at the next. */
  maxPullBytes?: number;
  /** Within a merger session, how long a delivered, unacknowledged entry waits before a `pull` claims it again (default 60 s). */
  reclaimMs?: number;
  /** More ioredis options (TLS, timeouts, retries); `protocol` is always 2. */
  redis?: RedisOptions;
}

/** The Redis transport: the {@link Transport} with its failover methods, and what it found on the server. */
export interface RedisTransport extends Transport {
  readonly keys: RedisKeys;
  /** This merger's consumer name in the group `mergers`. */
  readonly consumer: string;
  /** The node's persistence settings as read at open, and what they mean for an acknowledged put. */
  readonly durability: RedisDurability;
  /** Failover is always available: the lease and the published merges. */
  readonly failover: Failover;
}

/**
 * Opens the Redis Streams transport on `url`, the keys of `store` under `framelog:{<store>}:`
 * (one hash tag, so a Redis Cluster keeps them in one slot). Creates the consumer group `mergers`
 * (and the stream) when missing, loads the Lua scripts and reads the persistence settings.
 *
 * **When a put is acknowledged**: `put` resolves once Redis has answered the put script, i.e. the
 * deltas are in the node's memory. What survives after that is Redis's persistence: with
 * `--save "" --appendonly no` (this machine's Redis 7.0) nothing is on disk and a Redis restart loses
 * every pending delta; `appendonly yes` + `appendfsync always` makes an acknowledged put durable on
 * that node (the reply follows the fsync); `appendfsync everysec` can lose about the last second on
 * a host crash; `WAITAOF` (Redis 7.2+, not on 7.0) would let the client wait for the fsync; `WAIT`
 * covers replicas only. {@link RedisTransport.durability} says which case the server is in.
 */
export async function openRedisTransport(o: RedisTransportOptions): Promise<RedisTransport> {
  const keys = redisKeys(o.store);
  const maxDeltaBytes = o.maxDeltaBytes ?? DEFAULT_MAX_DELTA_BYTES;
  if (!Number.isSafeInteger(maxDeltaBytes) || maxDeltaBytes < 0) throw new FramelogError(`redis transport: maxDeltaBytes ${o.maxDeltaBytes} must be a whole number of bytes`, 'bad-argument');
  const consumerName = o.consumer ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(o.url, { ...o.redis, protocol: 2, lazyConnect: true });
  // ioredis reports connection trouble as events and retries; commands then fail with a generic
  // message, so the last connection error is kept and named in what the transport throws.
  let connectionError: Error | undefined;
  const noteError = (e: Error): void => {
    connectionError = e;
  };
  redis.on('error', noteError);
  redis.on('ready', () => (connectionError = undefined));
  /** A failed command, with the connection's own error when the connection is down. */
  const failure = (e: unknown): unknown => {
    if (e instanceof FramelogError || redis.status === 'ready' || !connectionError) return e;
    return new FramelogError(`redis ${o.url} (store ${o.store}): ${(e as Error).message} (connection: ${connectionError.message})`, 'redis-unavailable');
  };
  const guard = <T>(p: Promise<T>): Promise<T> => p.catch((e: unknown) => Promise.reject(failure(e)));
  let durability: RedisDurability;
  try {
    await redis.connect();
    const [d] = await Promise.all([readRedisDurability(redis), ensureMergerGroup(redis, keys), ...ALL_SCRIPTS.map((s) => redis.call('SCRIPT', ['LOAD', s.lua]))]);
    durability = d;
  } catch (e) {
    redis.disconnect();
    throw new FramelogError(`redis transport ${o.url} (store ${o.store}): ${connectionError?.message ?? (e as Error).message}`, 'redis-unavailable');
  }

  const consumer = createRedisConsumer(redis, keys, { name: consumerName, readCount: o.readCount, maxPullBytes: o.maxPullBytes, reclaimMs: o.reclaimMs });
  const subscribers = new Set<Redis>();
  const leases = new Set<MergerLease>();
  let closing: Promise<void> | undefined;

  async function close(): Promise<void> {
    for (const s of subscribers) s.disconnect();
    subscribers.clear();
    try {
      for (const l of leases) await l.release();
      await consumer.close();
    } finally {
      // quit sends QUIT and waits for the reply; a connection already down cannot answer, so it is dropped.
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
    }
  }

  return {
    name: 'redis',
    keys,
    consumer: consumerName,
    durability,
    put: (deltas) => guard(putRedisDeltas(redis, keys, deltas, maxDeltaBytes)),
    pull: () => guard(consumer.pull()),
    ack: (ids) => guard(consumer.ack(ids)),
    merger: {
      async begin() {
        consumer.newSession();
        return () => undefined;
      },
    },
    watch(onArrival, signal) {
      if (signal.aborted || closing) return;
      const sub = redis.duplicate();
      sub.on('error', noteError);
      subscribers.add(sub);
      sub.on('message', () => {
        if (!signal.aborted) onArrival(); // a message already read when the watch stopped is not passed on
      });
      const stop = (): void => {
        subscribers.delete(sub);
        sub.removeAllListeners('message');
        sub.disconnect();
      };
      signal.addEventListener('abort', stop, { once: true });
      sub.subscribe(keys.arrivals).catch((e: unknown) => {
        if (!subscribers.has(sub)) return; // stopped before the subscription was made
        process.stderr.write(`framelog: redis: watching ${keys.arrivals} failed: ${(e as Error).message} (the merger keeps polling)\n`);
      });
    },
    failover: {
      async acquireLease(options) {
        const lease = await guard(acquireRedisLease(redis, keys, options));
        leases.add(lease);
        const release = lease.release.bind(lease);
        return { token: lease.token, holder: lease.holder, lost: lease.lost, release: async () => { leases.delete(lease); await release(); } };
      },
      publishMerges: (merges, lease) => guard(publishRedisMerges(redis, keys, merges, lease)),
      publishedHead: () => guard(redisPublishedHead(redis, keys)),
      readMerges: (fromIndex) => readRedisMerges(redis, keys, fromIndex),
      trimMerges: (keepFromIndex) => guard(trimRedisMerges(redis, keys, keepFromIndex)),
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}
