import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { initStore } from '../../store/storeContext.js';
import type { Transport } from '../transport.js';
import type { TransportUnderTest } from './equivalence.js';

/**
 * An engine transport for the equivalence harness: a fresh store name (`newStore()`, default
 * `eq-<random>`), each writer and the merger its own connection (`open(store, writer)`, the writer
 * undefined for the merger), the merger's store a local folder; `close` closes them all, then
 * `drop(store)` deletes what the store left in the engine.
 */
export function engineUnderTest(
  name: string,
  open: (store: string, writer?: string) => Promise<Transport>,
  drop: (store: string) => Promise<unknown>,
  newStore: () => string = () => `eq-${randomBytes(6).toString('hex')}`,
): TransportUnderTest {
  return {
    name,
    async open(root, plan) {
      const store = newStore();
      const storeDir = join(root, 'store');
      initStore(storeDir, plan);
      const merger = await open(store);
      const writers: Transport[] = [];
      return {
        storeDir,
        async writer(writer) {
          const w = await open(store, writer);
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
