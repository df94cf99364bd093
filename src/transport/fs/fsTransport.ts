import { watch as watchFolder, type FSWatcher } from 'node:fs';
import { parseDelta } from '../../delta/validateDelta.js';
import { landDeltas } from '../../store/inbox/landDeltas.js';
import { putDeltas } from '../../store/inbox/putDeltas.js';
import { openStoreContext } from '../../store/storeContext.js';
import type { Transport } from '../transport.js';

/**
 * The filesystem transport: the store's own `inbox/` (PROTOCOL §5). `put` lands the bytes as
 * received: valid deltas as `framelog put` writes them (one file, or one batch file for several;
 * an identical copy already pending is not written twice), and a put with bad bytes each under
 * its own name (identity + hash, or the hash of bytes that are no delta); its ids are the inbox
 * files (`inbox/NAME`, or `inbox/BATCH#LINE`). The merger has nothing to pull (deltas are
 * already where it merges from) and nothing to acknowledge (the merge moves the files to the
 * archive, its own acknowledgement).
 */
export function createFsTransport(dir: string): Transport {
  const watchers = new Set<FSWatcher>();
  return {
    name: 'fs',
    durability: { onDiskWhenAcknowledged: true, summary: 'a put is acknowledged once its inbox file and the inbox folder were fsynced' },
    async put(deltas) {
      const ctx = openStoreContext(dir);
      // Valid deltas land as `put` writes them: several in one batch file, synced once. A put that
      // carries bad bytes lands each as a file of its own, as received, for the merge to quarantine.
      if (deltas.every((d) => parseDelta(d, ctx.plan).ok)) {
        return putDeltas(ctx, deltas.map((bytes, i) => ({ bytes, source: `delta #${i + 1}` }))).map((r) => ({ id: r.line ? `${r.file}#${r.line}` : r.file, duplicate: !r.written }));
      }
      return landDeltas(ctx, deltas).map((l) => ({ id: `inbox/${l.name}`, duplicate: !l.written }));
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
