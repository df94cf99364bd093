import { createHash } from 'node:crypto';

/**
 * A seeded, splittable random number generator. Two generators made from the same key draw the
 * same numbers; `split(label)` derives an independent child from the key and the label alone (not
 * from how many numbers the parent drew), so a shard's or a frame's stream never depends on
 * who else drew before it.
 */
export interface Rng {
  /** The key this generator was derived from (`seed/shard-3/frame-12`). */
  readonly key: string;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [min, max] (inclusive). */
  range(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** A standard normal deviate (Box–Muller), times `sd`, plus `mean`. */
  normal(mean?: number, sd?: number): number;
  /** One element of `list` (undefined for an empty list). */
  pick<T>(list: readonly T[]): T | undefined;
  /** A shuffled copy of `list` (Fisher–Yates). */
  shuffle<T>(list: readonly T[]): T[];
  /** An independent generator for `label`: same key and label, same numbers. */
  split(label: string | number): Rng;
}

/** Derives four 32-bit words of generator state from a key (SHA-256). */
function stateOf(key: string): Uint32Array {
  const h = createHash('sha256').update(key).digest();
  return new Uint32Array([h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12) | 1]);
}

/** A generator for `seed` (any string or number): sfc32 seeded by SHA-256 of the key. */
export function createRng(seed: string | number): Rng {
  return fromKey(String(seed));
}

function fromKey(key: string): Rng {
  const s = stateOf(key);
  let a = s[0], b = s[1], c = s[2], d = s[3];
  const next = (): number => {
    // sfc32 (Chris Doty-Humphrey): small, fast, passes PractRand to 2^40+.
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // mix the seed words
  let spare: number | undefined;
  const rng: Rng = {
    key,
    next,
    int: (n) => Math.floor(next() * n),
    range: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    normal(mean = 0, sd = 1) {
      if (spare !== undefined) {
        const v = spare;
        spare = undefined;
        return mean + sd * v;
      }
      let u = 0;
      while (u === 0) u = next();
      const r = Math.sqrt(-2 * Math.log(u)), th = 2 * Math.PI * next();
      spare = r * Math.sin(th);
      return mean + sd * r * Math.cos(th);
    },
    pick: (list) => (list.length === 0 ? undefined : list[Math.floor(next() * list.length)]),
    shuffle(list) {
      const out = list.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
    split: (label) => fromKey(`${key}/${label}`),
  };
  return rng;
}
