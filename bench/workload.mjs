// The merge benchmarks' workload: deterministic (seeded PRNG), the same JSON text for every
// system measured. Per frame, one delta per writer, each with 5 operations:
//   counters {a: 1, b: k}  ·  set {ent: {<one of 100 ids>: {f1, f2}}}  ·  items {log: [{id: '<frame>-<writer>'}]}
// utc increases with the frame (and, inside a frame, with the writer index).

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1) (the library's own). */
import { seededRandom } from '../dist/engine/index.js';
export const prng = seededRandom;

export const ENTITIES = 100;
export const OPS_PER_DELTA = 5;
const BASE_MS = Date.UTC(2026, 0, 1);

export const writerName = (w) => `w${String(w).padStart(2, '0')}`;

/** The delta object of writer `w` at `frame`. */
export function makeDelta(frame, w, rng) {
  const writer = writerName(w);
  return {
    frame,
    writer,
    utc: new Date(BASE_MS + frame * 1000 + w).toISOString(),
    counters: { a: 1, b: 1 + Math.floor(rng() * 9) },
    set: { ent: { [`e${Math.floor(rng() * ENTITIES)}`]: { f1: Math.floor(rng() * 1e6), f2: `v${Math.floor(rng() * 1e6)}` } } },
    items: { log: [{ id: `${frame}-${writer}` }] },
  };
}

/**
 * Frames `first … first+frames-1` for `writers` writers: an array per frame of `{obj, text}`,
 * where `text` is the JSON every system parses or stores.
 */
export function makeFrames({ frames, writers, seed = 42, first = 1 }) {
  const rng = prng(seed * 1_000_003 + writers);
  const out = [];
  for (let f = first; f < first + frames; f++) {
    const list = [];
    for (let w = 0; w < writers; w++) {
      const obj = makeDelta(f, w, rng);
      list.push({ obj, text: JSON.stringify(obj) });
    }
    out.push(list);
  }
  return out;
}

/** Median of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
