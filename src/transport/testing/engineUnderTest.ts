import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { initStore } from '../../store/storeContext.js';
import type { Transport } from '../transport.js';
import type { TransportUnderTest } from './equivalence.js';

/**
 * An engine transport for the equivalence harness: a fresh store name (`eq-<random>`), each writer
 * and the merger its own connection (`open(store)`), the merger's store a local folder; `close`
 * closes them all, then `drop(store)` deletes what the store left in the engine.
 */
export function engineUnderTest(name: string, open: (store: string) => Promise<Transport>, drop: (store: string) => Promise<unknown>): TransportUnderTest {
  return {
    name,
    async open(root, plan) {
      const store = `eq-${randomBytes(6).toString('hex')}`;
      const storeDir = join(root, 'store');
      initStore(storeDir, plan);
      const merger = await open(store);
      const writers: Transport[] = [];
      return {
        storeDir,
        async writer() {
          const w = await open(store);
          writers.push(w);
          return w;
        },
        merger,
        async close() {
          try {
            for (const w of writers) await w.close();
            await merger.close();
          } finally {
            await drop(store);
          }
        },
      };
    },
  };
}
