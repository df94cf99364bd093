import { Redis } from 'ioredis';
import { allRedisKeys, redisKeys } from './redisKeys.js';

/**
 * Deletes every key of `store` (deltas, pending keys, lease, fencing counter, published merges and
 * head): for tests and benches that made a namespace of their own. Returns how many keys existed.
 */
export async function dropRedisStore(url: string, store: string): Promise<number> {
  const keys = redisKeys(store);
  const redis = new Redis(url, { protocol: 2, lazyConnect: true });
  try {
    await redis.connect();
    return await redis.del(...allRedisKeys(keys));
  } finally {
    redis.disconnect();
  }
}
