// The latency every engine bench measures the same way: one writer puts one delta per frame, a
// watch-mode merger expecting that writer closes each frame at once; ms from the put call to the
// merge (onMerge), p50/p95/max.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/**
 * For an engine, `open()` returns a fresh transport on the bench's store (called twice: writer and
 * merger) and `drop()` removes the store from the engine. A transport whose writer and merger differ
 * (fs, git) gives `setup(dir, writer)` instead, returning `{ storeDir, writerT, mergerT }`.
 */
export async function putToMerged({ dist, frames, name, open, drop, setup }) {
  const load = (file) => import(pathToFileURL(path.join(dist, file)).href);
  const { runTransportMerger } = await load('transport/runTransportMerger.js');
  const { initStore, openStoreContext } = await load('store/storeContext.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `framelog-${name}-latency-`));
  const writer = 'w0';
  let storeDir = dir, writerT, mergerT;
  if (setup) ({ storeDir, writerT, mergerT } = await setup(dir, writer));
  else {
    initStore(dir, { writers: [writer] });
    writerT = await open();
    mergerT = await open();
  }
  const putAt = new Map(), merged = [];
  const abort = new AbortController();
  let waiting;
  try {
    const loop = runTransportMerger(openStoreContext(storeDir), mergerT, {
      watch: true, signal: abort.signal, pollMs: 20,
      onMerge: (r) => {
        merged.push(performance.now() - putAt.get(r.frame));
        waiting?.();
      },
    });
    loop.catch(() => waiting?.()); // a failing merger must not leave the loop below waiting
    for (let f = 1; f <= frames; f++) {
      const done = new Promise((r) => (waiting = r));
      putAt.set(f, performance.now());
      await writerT.put([Buffer.from(JSON.stringify({ frame: f, writer, utc: new Date().toISOString(), counters: { n: 1 } }))]);
      await done;
    }
    abort.abort();
    await loop;
    if (merged.length !== frames) throw new Error(`${name} latency: ${merged.length} of ${frames} frames merged`);
    return { transport: name, frames, ms: { p50: round(percentile(merged, 50)), p95: round(percentile(merged, 95)), max: round(Math.max(...merged)) } };
  } finally {
    abort.abort();
    await writerT.close();
    await mergerT.close();
    await drop?.();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
