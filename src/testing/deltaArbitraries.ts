// fast-check arbitraries of raw deltas (PROTOCOL §1) built to collide: few writers, frames 0..5,
// seq 0..2, a handful of instants (fractional seconds, +02:00 offsets, equal instants spelt
// differently), items in two collections with small key ranges, counters, colliding field writes,
// events, fallbacks, and redeliveries (identical copies and same-identity different-content ones).
// Excluded from the build: tests only.
import fc from 'fast-check';
import { DEFAULT_PLAN, type Plan } from '../delta/plan.js';
import type { JsonObject, JsonValue, ValidDelta } from '../delta/types.js';
import { validateDelta } from '../delta/validateDelta.js';

/** A raw delta: the JSON object a writer would send. */
export type RawDelta = Record<string, JsonValue>;

export const WRITERS = ['w0', 'w1', 'w2'] as const;

/**
 * Instants chosen to trap string comparison: `…:00.5Z` sorts before `…:00Z` as text but is later;
 * `12:00:00+02:00` is the same instant as `10:00:00Z`; `.0001` truncates to the same millisecond.
 */
export const UTCS = [
  '2026-03-01T10:00:00Z',
  '2026-03-01T10:00:00.5Z',
  '2026-03-01T10:00:00.500Z',
  '2026-03-01T12:00:00+02:00',
  '2026-03-01T12:00:00.250+02:00',
  '2026-03-01T09:59:59.999Z',
  '2026-03-01T10:00:00.0001Z',
  '2026-03-01T08:00:01-02:00',
] as const;

/** Item keys the generated deltas assume: `posts` by `id` (the default), `tags` by `[name, lang]`. */
export const TEST_KEYS: Plan['keys'] = { tags: ['name', 'lang'] };
/** The default plan with {@link TEST_KEYS}. */
export const TEST_PLAN: Plan = { ...DEFAULT_PLAN, keys: TEST_KEYS };

const post: fc.Arbitrary<JsonObject> = fc.oneof(
  fc.record({ id: fc.integer({ min: 0, max: 3 }), title: fc.constantFrom('a', 'b') }),
  fc.record({ title: fc.constantFrom('a', 'b', 'c') }), // keyless: keyed by content hash
);
const tag: fc.Arbitrary<JsonObject> = fc.record(
  { name: fc.constantFrom('x', 'y'), lang: fc.constantFrom('en', 'fr'), n: fc.integer({ min: 0, max: 1 }) },
  { requiredKeys: ['name', 'lang'] },
);
const fieldValue: fc.Arbitrary<JsonValue> = fc.constantFrom<JsonValue>(null, 0, 1, 0.5, 'idle', 'busy', true, { a: 1 }, [1, 2], '');
const nonEmpty = <T>(a: fc.Arbitrary<Record<string, T>>): fc.Arbitrary<Record<string, T>> => a.filter((o) => Object.keys(o).length > 0);

/** The operations and core fields of an `ok` delta. */
export const okDeltaArb: fc.Arbitrary<RawDelta> = fc
  .record(
    {
      frame: fc.integer({ min: 0, max: 5 }),
      writer: fc.constantFrom(...WRITERS),
      seq: fc.integer({ min: 0, max: 2 }),
      utc: fc.constantFrom(...UTCS),
      status: fc.constant('ok'),
      items: fc.record({ posts: fc.array(post, { maxLength: 3 }), tags: fc.array(tag, { maxLength: 2 }) }, { requiredKeys: [] }),
      counters: fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: -5, max: 5 }), { maxKeys: 3 }),
      set: fc.dictionary(
        fc.constantFrom('agents', 'zones'),
        nonEmpty(fc.dictionary(fc.constantFrom('1', '2'), nonEmpty(fc.dictionary(fc.constantFrom('status', 'load'), fieldValue, { maxKeys: 2 })), { maxKeys: 2 })),
        { maxKeys: 2 },
      ),
      events: fc.array(fc.record({ type: fc.constantFrom('birth', 'migration'), n: fc.nat(3) }), { maxLength: 2 }),
      meta: fc.record({ model: fc.constantFrom('m1', 'm2'), tokens: fc.nat(100) }, { requiredKeys: [] }),
      alias: fc.constantFrom('writer', 'writer', 'writer', 'stream_id', 'writer_id'),
    },
    { requiredKeys: ['frame', 'writer', 'utc', 'alias'] },
  )
  .map(({ alias, writer, ...rest }) => ({ [alias]: writer, ...rest }) as RawDelta);

/** A fallback delta: no operations, maybe meta. */
export const fallbackDeltaArb: fc.Arbitrary<RawDelta> = fc.record(
  {
    frame: fc.integer({ min: 0, max: 5 }),
    writer: fc.constantFrom(...WRITERS),
    seq: fc.integer({ min: 0, max: 2 }),
    utc: fc.constantFrom(...UTCS),
    status: fc.constant('fallback'),
    meta: fc.record({ reason: fc.constantFrom('timeout', 'crash') }),
  },
  { requiredKeys: ['frame', 'writer', 'utc', 'status'] },
);

/** How a redelivered copy differs from its original. */
export type CopyKind = 'identical' | 'reordered' | 'meta' | 'counter' | 'alias';

/** A redelivered copy of `src`: identical (same hash) for the first two kinds, same identity and different content otherwise. */
export function copyOf(src: RawDelta, kind: CopyKind, n: number): RawDelta {
  const clone = structuredClone(src);
  switch (kind) {
    case 'identical':
      return clone;
    case 'reordered':
      return Object.fromEntries(Object.entries(clone).reverse()) as RawDelta;
    case 'meta':
      return { ...clone, meta: { redelivery: n } };
    case 'counter':
      return { ...clone, counters: { ...((clone.counters as JsonObject | undefined) ?? {}), z: n + 1 } };
    case 'alias': {
      const name = 'writer' in clone ? 'writer' : 'stream_id' in clone ? 'stream_id' : 'writer_id';
      const { [name]: w, ...rest } = clone;
      return { [name === 'writer' ? 'writer_id' : 'writer']: w, ...rest };
    }
  }
}

/**
 * A set of raw deltas: `ok` ones, fallbacks, and (with `redeliveries`) copies of some `ok` ones,
 * identical or same-identity different-content.
 */
export function deltaSetArb(opts: { redeliveries: boolean; maxDeltas?: number }): fc.Arbitrary<RawDelta[]> {
  return fc
    .tuple(
      fc.array(okDeltaArb, { minLength: 1, maxLength: opts.maxDeltas ?? 12 }),
      fc.array(fallbackDeltaArb, { maxLength: 3 }),
      opts.redeliveries
        ? fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom<CopyKind>('identical', 'reordered', 'meta', 'counter', 'alias') }), { maxLength: 5 })
        : fc.constant([]),
    )
    .map(([oks, fallbacks, copies]) => [...oks, ...fallbacks, ...copies.map((c, n) => copyOf(oks[c.at % oks.length], c.kind, n))]);
}

/** Validates a generated raw delta, failing loudly when the generator made an invalid one. */
export function valid(raw: RawDelta, plan: Plan = DEFAULT_PLAN): ValidDelta {
  const check = validateDelta(raw, plan);
  if (!check.ok) throw new Error(`generator bug: invalid delta ${JSON.stringify(raw)}: ${check.problem.field}: ${check.problem.rule}`);
  return check.delta;
}

/** Keeps the first delta of each identity `(frame, writer, seq)` (fallbacks claim none: all kept). */
export function distinctIdentities(deltas: ValidDelta[]): ValidDelta[] {
  const seen = new Set<string>();
  return deltas.filter((d) => {
    if (d.status === 'fallback') return true;
    const k = `${d.frame}/${d.writer}/${d.seq}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Splits deltas into merges that close `frames` (ascending) and a last one at least at frame 5:
 * delta i joins the merge `choice[i]` picks among those that close its frame or a later one (a
 * later one makes it late). Returns each merge's frame and deltas.
 */
export function splitIntoMerges<D extends { frame: number }>(deltas: D[], frames: number[], choice: number[]): Array<{ frame: number; deltas: D[] }> {
  const mergeFrames = [...frames, Math.max(5, (frames.at(-1) ?? -1) + 1)];
  const batches: D[][] = mergeFrames.map(() => []);
  deltas.forEach((d, i) => {
    const eligible = mergeFrames.map((f, m) => (f >= d.frame ? m : -1)).filter((m) => m >= 0);
    batches[eligible[choice[i] % eligible.length]].push(d);
  });
  return mergeFrames.map((frame, m) => ({ frame, deltas: batches[m] }));
}
