import { watch as watchFolder, type FSWatcher } from 'node:fs';
import { landDeltas } from '../../store/landDeltas.js';
import { openStoreContext } from '../../store/storeContext.js';
import type { Transport } from '../transport.js';

/**
 * The filesystem transport: the store's own `inbox/` (PROTOCOL §5). `put` lands the bytes as
 * received under their identity + hash name (an identical copy already pending is not written
 * twice; a copy with other content gets its own name); the merger has nothing to pull (deltas are
 * already where it merges from) and nothing to acknowledge (the merge moves the files to the
 * archive, its own acknowledgement).
 */
export function createFsTransport(dir: string): Transport {
  const watchers = new Set<FSWatcher>();
  return {
    name: 'fs',
    async put(deltas) {
      return landDeltas(openStoreContext(dir), deltas).map((l) => ({ id: l.name, duplicate: !l.written }));
    },
    async pull() {
      return [];
    },
    async ack() {},
    watch(onArrival, signal) {
      let w: FSWatcher;
      try {
        w = watchFolder(openStoreContext(dir).layout.inbox, { persistent: false }, () => onArrival());
      } catch {
        return; // the merger loop polls as well
      }
      w.on('error', () => { w.close(); watchers.delete(w); });
      watchers.add(w);
      signal.addEventListener('abort', () => { w.close(); watchers.delete(w); }, { once: true });
    },
    async close() {
      for (const w of watchers) w.close();
      watchers.clear();
    },
  };
}
