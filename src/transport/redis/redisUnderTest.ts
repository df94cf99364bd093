import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { initStore } from '../../store/storeContext.js';
import type { TransportUnderTest } from '../testing/equivalence.js';
import { SERVICE_URLS } from '../testing/services.js';
import { dropRedisStore } from './dropRedisStore.js';
import { openRedisTransport, type RedisTransport } from './redisTransport.js';

/**
 * Redis for the equivalence harness: a fresh store name (`eq-<random>`) on the test Redis
 * (`FRAMELOG_REDIS_URL`, default 127.0.0.1:6379); each writer and the merger its own connection;
 * the merger's store a local folder. `close` closes them all and deletes the store's keys.
 */
export const redisUnderTest: TransportUnderTest = {
  name: 'redis',
  async open(root, plan) {
    const url = SERVICE_URLS.redis;
    const store = `eq-${randomBytes(6).toString('hex')}`;
    const storeDir = join(root, 'store');
    initStore(storeDir, plan);
    const merger = await openRedisTransport({ url, store });
    const writers: RedisTransport[] = [];
    return {
      storeDir,
      async writer() {
        const w = await openRedisTransport({ url, store });
        writers.push(w);
        return w;
      },
      merger,
      async close() {
        try {
          for (const w of writers) await w.close();
          await merger.close();
        } finally {
          await dropRedisStore(url, store);
        }
      },
    };
  },
};
