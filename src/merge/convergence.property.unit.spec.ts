// PROTOCOL §2 "Convergence", as properties of the pure merge engine:
//  a. within a merge, the result never depends on arrival order (state, conflicts, record, events);
//  b. across merges, deltas with distinct identities end in the same state however they are split.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inboxName } from '../delta/identity.js';
import type { ValidDelta } from '../delta/types.js';
import { deltaSetArb, distinctIdentities, splitIntoMerges, TEST_KEYS, valid, type RawDelta } from '../testing/deltaArbitraries.js';
import { stateJson } from './canonicalState.js';
import { mergeFrame, type PendingDelta } from './mergeFrame.js';
import { createMergeState, type MergeState } from './mergeState.js';

/** The merger's clock: `…10:00:00.5Z` is not skewed (500 ms), `…10:00:01Z` is. */
const NOW_MS = Date.parse('2026-03-01T10:00:00Z');
const MAX_SKEW_MS = 500;

/** As the store names it: the file carries identity and hash, so identical copies share a name. */
const pending = (d: ValidDelta): PendingDelta => ({ delta: d, file: `archive/merge-x/${inboxName(d)}` });

function close(state: MergeState, frame: number, deltas: ValidDelta[]) {
  return mergeFrame(state, { frame, deltas: deltas.map(pending), keys: TEST_KEYS, nowMs: NOW_MS, maxSkewMs: MAX_SKEW_MS });
}

/** Everything a merge produces, as JSON, after an optional earlier merge (frame 2) of `history`. */
function outcome(history: ValidDelta[], deltas: ValidDelta[]): string {
  const state = createMergeState();
  if (history.length > 0) close(state, 2, history);
  const out = close(state, 5, deltas);
  return JSON.stringify({ state: stateJson(state), record: out.record, conflicts: out.conflicts, events: out.events });
}

/** A permutation of `n` indices from a list of random keys (stable, so shrinking stays sensible). */
const permute = <T>(list: T[], keys: number[]): T[] =>
  list.map((v, i) => ({ v, k: keys[i % keys.length] ?? 0, i })).sort((a, b) => a.k - b.k || a.i - b.i).map((x) => x.v);

const toValid = (raws: RawDelta[]): ValidDelta[] => raws.map((r) => valid(r));

describe('convergence within a merge (PROTOCOL §2): arrival order changes nothing', () => {
  it('any permutation of one merge gives identical state, conflict records, merge record and events', () => {
    fc.assert(
      fc.property(
        deltaSetArb({ redeliveries: true }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
        (raws, keysA, keysB) => {
          const deltas = toValid(raws);
          const expected = outcome([], deltas);
          expect(outcome([], permute(deltas, keysA))).toBe(expected);
          expect(outcome([], permute(deltas, keysB))).toBe(expected);
          expect(outcome([], deltas.slice().reverse())).toBe(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('after an earlier merge, late deltas and redeliveries of applied ones still do not depend on arrival order', () => {
    fc.assert(
      fc.property(
        deltaSetArb({ redeliveries: true }),
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
        (raws, inHistory, redeliver, keysA, keysB) => {
          const deltas = toValid(raws);
          // The earlier merge closes frame 2: it takes some of the deltas of frames ≤ 2.
          const history = deltas.filter((d, i) => d.frame <= 2 && inHistory[i % 20]);
          // The second merge takes the rest, plus a redelivery of some of what the first applied.
          const second = deltas.filter((d, i) => !history.includes(d) || redeliver[i % 20]);
          const expected = outcome(history, second);
          expect(outcome(permute(history, keysB), permute(second, keysA))).toBe(expected);
          expect(outcome(history.slice().reverse(), second.slice().reverse())).toBe(expected);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('convergence across merges (PROTOCOL §2): distinct identities, any split into merges', () => {
  it('every split of the deltas into merges of increasing frames ends in the single-merge state', () => {
    const arb = deltaSetArb({ redeliveries: true }).chain((raws) => {
      const deltas = distinctIdentities(toValid(raws));
      return fc.record({
        deltas: fc.constant(deltas),
        frames: fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { maxLength: 4 }).map((f) => f.sort((a, b) => a - b)),
        choice: fc.array(fc.nat(), { minLength: deltas.length, maxLength: deltas.length }),
        order: fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
      });
    });
    fc.assert(
      fc.property(arb, ({ deltas, frames, choice, order }) => {
        const single = createMergeState();
        const one = close(single, 5, deltas);

        // Merges close frames[0] < frames[1] < … and a last one that takes whatever remains; a
        // delta may join any merge closing its frame or a later one (a later one: it is late).
        const split = createMergeState();
        const applied: string[] = [];
        splitIntoMerges(deltas, frames, choice).forEach(({ frame: f, deltas: batch }) => {
          const out = close(split, f, permute(batch, order));
          applied.push(...out.record.applied.map((r) => `${r.frame}/${r.writer}/${r.seq}/${r.sha256}`));
        });

        expect(stateJson(split)).toBe(stateJson(single));
        expect(applied.sort()).toEqual(one.record.applied.map((r) => `${r.frame}/${r.writer}/${r.seq}/${r.sha256}`).sort());
      }),
      { numRuns: 500 },
    );
  });
});

describe('mergeFrame is order-independent even when one content hash comes from several file', () => {
  // mergeFrame's contract: "the result never depends on the order of input.deltas". Two files with
  // the same content (same identity and hash, e.g. a writer's retry under another name) that conflict
  // with the applied copy tie in merge order, so their delta conflict records follow arrival order.
  it('two identical conflicting copies under different file names give the same conflict records in either order', () => {
    const kept = valid({ frame: 1, writer: 'w0', utc: '2026-03-01T10:00:00Z', counters: { n: 1 } });
    const other = valid({ frame: 1, writer: 'w0', utc: '2026-03-01T10:00:00Z', counters: { n: 2 } });
    const run = (files: string[]) => {
      const deltas: PendingDelta[] = [{ delta: kept, file: 'archive/merge-x/kept.json' }, ...files.map((file) => ({ delta: other, file }))];
      return JSON.stringify(mergeFrame(createMergeState(), { frame: 1, deltas, keys: {}, nowMs: NOW_MS, maxSkewMs: MAX_SKEW_MS }).conflicts);
    };
    expect(run(['archive/merge-x/b.json', 'archive/merge-x/a.json'])).toBe(run(['archive/merge-x/a.json', 'archive/merge-x/b.json']));
  });
});
