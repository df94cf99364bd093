import { engineUnderTest } from '../testing/engineUnderTest.js';
import { SERVICE_URLS } from '../testing/services.js';
import { dropRedisStore } from './dropRedisStore.js';
import { openRedisTransport } from './redisTransport.js';

/** Redis for the equivalence harness, on the test Redis (`FRAMELOG_REDIS_URL`, default 127.0.0.1:6379). */
export const redisUnderTest = engineUnderTest(
  'redis',
  (store) => openRedisTransport({ url: SERVICE_URLS.redis, store }),
  (store) => dropRedisStore(SERVICE_URLS.redis, store),
);
