// One writer process of the put benchmark (bench/merge.mjs): puts its deltas one at a time with
// the library's putDeltas (each durable: temp file, fsync, link, fsync of the inbox folder).
// Protocol over IPC: child → {ready}; parent → 'go'; child → {done, seconds}.
//   argv[2]: JSON {dir, dist, writer, count, seed}
import { pathToFileURL } from 'node:url';
import { makeDelta, prng } from './workload.mjs';

const a = JSON.parse(process.argv[2]);
const { openStoreContext, putDeltas } = await import(pathToFileURL(a.dist).href);
const ctx = openStoreContext(a.dir);
const rng = prng(a.seed * 7919 + a.writer);
const inputs = [];
for (let f = 1; f <= a.count; f++) {
  const d = makeDelta(f, a.writer, rng);
  inputs.push({ bytes: Buffer.from(JSON.stringify(d)), source: `${d.writer}@${f}` });
}
process.on('message', (m) => {
  if (m !== 'go') return;
  const t0 = process.hrtime.bigint();
  for (const input of inputs) putDeltas(ctx, [input]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.send({ done: true, seconds }, () => process.exit(0));
});
process.send({ ready: true });
