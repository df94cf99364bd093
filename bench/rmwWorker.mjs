// One writer process of the naive read-modify-write benchmark (bench/merge.mjs): the approach
// framelog replaces. Each iteration reads state.json, parses it, applies the same workload delta
// (two counter increments, two field sets, one item) and writes the whole file back, with no lock.
//   variant 'direct': writeFileSync over the file (readers can see it empty or half-written);
//   variant 'rename': write a temp file and rename it over (readers see whole files, updates still get lost).
// A read that does not parse (torn) is retried, and counted. With 'direct', two writers that
// truncate and write at once can leave the file for good as one's bytes followed by the tail of
// the other's: a writer that still cannot parse it after 1 s of retries gives up (gaveUp), as a
// naive program would crash there.
// Protocol over IPC: child → {ready}; parent → 'go'; child → {done, seconds, tornReads, gaveUp, iterations}.
//   argv[2]: JSON {file, writer, count, variant, seed}
import fs from 'node:fs';
import { makeDelta, prng } from './workload.mjs';

const a = JSON.parse(process.argv[2]);
const rng = prng(a.seed * 7919 + a.writer);
const deltas = [];
for (let f = 1; f <= a.count; f++) deltas.push(JSON.stringify(makeDelta(f, a.writer, rng)));
const tmp = `${a.file}.${process.pid}.tmp`;

function readState() {
  let since;
  for (let tries = 0; ; tries++) {
    try {
      return { state: JSON.parse(fs.readFileSync(a.file, 'utf8')), torn: tries };
    } catch {
      since ??= Date.now();
      if (Date.now() - since > 1000) return { state: undefined, torn: tries };
    }
  }
}

process.on('message', (m) => {
  if (m !== 'go') return;
  let tornReads = 0;
  let gaveUp = false;
  let iterations = 0;
  const t0 = process.hrtime.bigint();
  for (const text of deltas) {
    const d = JSON.parse(text);
    const { state, torn } = readState();
    tornReads += torn;
    if (!state) {
      gaveUp = true;
      break;
    }
    iterations++;
    for (const [k, v] of Object.entries(d.counters)) state.counters[k] = (state.counters[k] ?? 0) + v;
    for (const [type, byId] of Object.entries(d.set)) {
      const t = (state.entities[type] ??= {});
      for (const [id, fields] of Object.entries(byId)) Object.assign((t[id] ??= {}), fields);
    }
    for (const [c, list] of Object.entries(d.items)) (state.items[c] ??= []).push(...list);
    const out = JSON.stringify(state);
    if (a.variant === 'rename') {
      fs.writeFileSync(tmp, out);
      fs.renameSync(tmp, a.file);
    } else {
      fs.writeFileSync(a.file, out);
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.send({ done: true, seconds, tornReads, gaveUp, iterations }, () => process.exit(0));
});
process.send({ ready: true });
