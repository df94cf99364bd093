import { seededRandom } from '../../engine/rng/seededRandom.js';
import type { Plan } from '../../delta/plan.js';

/** One delta as a writer hands it to a transport: bytes exactly as they will travel. */
export interface WorkloadDelta {
  writer: string;
  bytes: Uint8Array;
}

/** The same deltas for every transport, in merge rounds: each round is put, then merged. */
export interface Workload {
  writers: string[];
  plan: Partial<Plan>;
  rounds: WorkloadDelta[][];
  /** The merger's clock for every merge (epoch ms), so records do not depend on the wall clock. */
  nowMs: number;
  /** How many deltas of each kind the workload holds. */
  counts: { total: number; originals: number; duplicates: number; conflicting: number; late: number; fallbacks: number; bad: number };
}

/** Options of {@link generateWorkload}. */
export interface WorkloadOptions {
  writers?: number;
  frames?: number;
  /** About how many deltas in all (duplicates, redeliveries and bad files included). */
  deltas?: number;
  rounds?: number;
  seed?: number;
  /** Bad files (each breaks PROTOCOL §1 a different way). */
  bad?: number;
}


/** A seeded shuffle (Fisher–Yates), in place. */
export function shuffle<T>(xs: T[], seed: number): T[] {
  const rnd = seededRandom(seed);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const BAD = [
  (f: number, w: string) => `{"frame":${f},"writer":"${w}","utc":"2026-01-01T00:00:00Z","counters":{"n":NaN}}`,
  (f: number, w: string) => `{"frame":${f},"writer":"${w}","utc":"2026-01-01T00:00:00Z","counters":{"n":1e999}}`,
  (f: number) => `{"frame":${f},"utc":"2026-01-01T00:00:00Z","counters":{"n":1}}`,
  (f: number, w: string) => `{"frame":${f},"writer":"${w}","utc":"2026-01-01T00:00:00Z","status":"fallback","items":{}}`,
  () => `{"frame":3,"writer":`,
  (f: number, w: string) => `{"frame":${f},"writer":"${w}","utc":"yesterday"}`,
  (f: number, w: string) => `{"frame":${f},"writer":"${w}","utc":"2026-01-01T00:00:00Z","colour":"red"}`,
];

/**
 * A seeded workload with everything a transport must carry faithfully: duplicates (identical
 * copies, some in the same round), conflicting redeliveries (same identity, other content), late
 * deltas (put after their frame closed), fallbacks (and the real delta arriving late after one),
 * field and item conflicts (every writer claims `board/leader`; shared milestone keys), events,
 * and a few bad files that break PROTOCOL §1 in different ways.
 */
export function generateWorkload(o: WorkloadOptions = {}): Workload {
  const nW = o.writers ?? 8, frames = o.frames ?? 100, rounds = o.rounds ?? 25, seed = o.seed ?? 1;
  const target = o.deltas ?? 10_000;
  const rnd = seededRandom(seed);
  const writers = Array.from({ length: nW }, (_, i) => `w${i}`);
  const out: WorkloadDelta[][] = Array.from({ length: rounds }, () => []);
  const counts = { total: 0, originals: 0, duplicates: 0, conflicting: 0, late: 0, fallbacks: 0, bad: 0 };
  const roundOf = (f: number): number => Math.min(rounds - 1, Math.floor(((f - 1) * rounds) / frames));
  const later = (r: number): number => Math.min(rounds - 1, r + 1 + Math.floor(rnd() * 3));
  const put = (r: number, writer: string, obj: unknown): void => {
    out[r].push({ writer, bytes: Buffer.from(JSON.stringify(obj)) });
    counts.total++;
  };
  const perWriterFrame = Math.max(1, (target * 0.97) / (nW * frames));
  for (let f = 1; f <= frames; f++) {
    for (let wi = 0; wi < nW; wi++) {
      const w = writers[wi];
      const units = Math.floor(perWriterFrame) + (rnd() < perWriterFrame % 1 ? 1 : 0);
      for (let seq = 0; seq < units; seq++) {
        const utc = new Date(T0 + f * 1000 + Math.floor(rnd() * 900)).toISOString();
        const delta: Record<string, unknown> = {
          frame: f, writer: w, utc, seq,
          counters: { n: 1, tokens: 1 + Math.floor(rnd() * 500) },
          items: { results: [{ id: `r-${f}-${w}-${seq}`, score: Math.floor(rnd() * 1000) }] },
          set: { agents: { [w]: { load: Math.floor(rnd() * 100), frame: f } } },
        };
        if (seq === 0) (delta.set as Record<string, unknown>).board = { leader: { claimed_by: w, at: utc } };
        if (rnd() < 0.05) (delta.items as Record<string, unknown>).milestones = [{ id: `m-${f % 7}`, by: w }];
        if (rnd() < 0.1) delta.events = [{ type: 'handoff', from: w, to: writers[(wi + 1) % nW] }];
        let r = roundOf(f);
        if (seq === 0 && rnd() < 0.02 && r < rounds - 1) {
          // The writer crashed: a fallback now, its real delta (same identity) later.
          put(r, w, { frame: f, writer: w, utc, seq, status: 'fallback', meta: { error: 'timeout' } });
          counts.fallbacks++;
          r = later(r);
          counts.late++;
        } else if (rnd() < 0.03 && r < rounds - 1) {
          r = later(r);
          counts.late++;
        }
        put(r, w, delta);
        counts.originals++;
        const x = rnd();
        if (x < 0.03) {
          put(rnd() < 0.4 ? r : later(r), w, delta); // an identical copy: a retrying transport
          counts.duplicates++;
        } else if (x < 0.036) {
          put(later(r), w, { ...delta, counters: { n: 2, tokens: 0 } }); // same identity, other content
          counts.conflicting++;
        }
      }
    }
  }
  const nBad = o.bad ?? 7;
  for (let i = 0; i < nBad; i++) {
    const r = Math.floor(rnd() * rounds);
    const w = writers[i % nW];
    out[r].push({ writer: w, bytes: Buffer.from(BAD[i % BAD.length](1 + Math.floor(rnd() * frames), w)) });
    counts.total++;
    counts.bad++;
  }
  return { writers, plan: { writers, snapshotEvery: 1 }, rounds: out, nowMs: T0 + (frames + 10) * 1000, counts };
}
