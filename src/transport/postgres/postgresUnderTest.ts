import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { initStore } from '../../store/storeContext.js';
import type { TransportUnderTest } from '../testing/equivalence.js';
import { SERVICE_URLS } from '../testing/services.js';
import { dropPostgresTransportStore, openPostgresTransport } from './postgresTransport.js';

/**
 * PostgreSQL for the equivalence harness: a fresh store (schema `framelog_eq_<random>`) in the
 * database at `FRAMELOG_PG_URL` (default the test service); each writer and the merger open their
 * own transport on it; the merger's store is a local folder. `close` drops the schema.
 */
export const postgresUnderTest: TransportUnderTest = {
  name: 'postgres',
  async open(root, plan) {
    const url = SERVICE_URLS.postgres;
    const store = `eq_${randomBytes(6).toString('hex')}`;
    const storeDir = join(root, 'store');
    initStore(storeDir, plan);
    const merger = await openPostgresTransport({ url, store });
    return {
      storeDir,
      writer: () => openPostgresTransport({ url, store }),
      merger,
      async close() {
        await merger.close();
        await dropPostgresTransportStore({ url, store });
      },
    };
  },
};
