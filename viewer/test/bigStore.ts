import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { putDeltas } from '../../src/store/inbox/putDeltas.js';
import { openMergerOn } from '../../src/store/openStore.js';
import { initStore } from '../../src/store/storeContext.js';

/**
 * A folder for a big throwaway store: on /dev/shm when it is a roomy tmpfs (fsync costs nothing
 * there, so 100k durable merges take seconds, not minutes), else the system temp folder.
 */
export function bigTempDir(prefix: string): string {
  let base = os.tmpdir();
  try {
    const st = fs.statfsSync('/dev/shm');
    if (st.bavail * st.bsize > 2 * 1024 ** 3) base = '/dev/shm';
  } catch { /* no /dev/shm */ }
  return fs.mkdtempSync(path.join(base, prefix));
}

/**
 * Builds a store of `frames` merged frames (1…frames) through the library, one merge record per
 * frame: `writers` writers each set one field of a few entities and bump a counter; one writer in
 * 50 frames sends a fallback. snapshotEvery 100.
 */
export async function buildBigStore(dir: string, frames: number, writers = 4): Promise<{ seconds: number }> {
  const t0 = performance.now();
  const ctx = initStore(dir, { snapshotEvery: 100, writers: Array.from({ length: writers }, (_, i) => `w${i}`) });
  const m = openMergerOn(ctx);
  try {
    // A chunk of frames per merge call, and a turn of the event loop between chunks: the test worker
    // must keep answering its runner (vitest gives up on one silent for 60 s).
    const chunk = Math.max(1, Math.floor(1000 / writers));
    for (let s = 1; s <= frames; s += chunk) {
      const inputs = [];
      for (let f = s; f <= Math.min(frames, s + chunk - 1); f++) {
        for (let w = 0; w < writers; w++) {
          const utc = new Date(Date.UTC(2026, 0, 1) + f * 1000 + w).toISOString();
          const d = (f + w) % 50 === 0
            ? { frame: f, writer: `w${w}`, utc, status: 'fallback' }
            : { frame: f, writer: `w${w}`, utc, counters: { ticks: 1 }, set: { cell: { [`c${(f * 7 + w) % 64}`]: { v: f, by: `w${w}` } } } };
          inputs.push({ bytes: Buffer.from(JSON.stringify(d)), source: `f${f}w${w}` });
        }
      }
      putDeltas(ctx, inputs);
      m.merge();
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    m.close();
  }
  return { seconds: (performance.now() - t0) / 1000 };
}
