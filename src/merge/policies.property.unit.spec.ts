// PROTOCOL v1.1 §2a as properties of the pure merge: for random plans with field policies, and
// random deltas some of which are resolutions,
//  a. within a merge, arrival order changes nothing (state, conflict records, merge record);
//  b. across merges, any split of distinct identities into merges ends in the single-merge state;
//  c. resolutions outrank policies: a field a resolution wrote holds the value of the latest
//     resolution write, whatever its policy and whatever ordinary writes came before or after.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inboxName } from '../delta/identity.js';
import type { FieldPolicy, PolicyMap } from '../delta/plan.js';
import { compareStamps, stampOf } from '../delta/stamp.js';
import type { JsonValue, ValidDelta } from '../delta/types.js';
import { canonicalJson } from '../delta/canonicalJson.js';
import { deltaSetArb, distinctIdentities, splitIntoMerges, TEST_KEYS, valid, WRITERS, type RawDelta } from '../testing/deltaArbitraries.js';
import { stateJson, toState } from './canonicalState.js';
import { compilePolicies, type FieldPolicies } from './fieldPolicies.js';
import { mergeFrame, type PendingDelta } from './mergeFrame.js';
import { createMergeState, type MergeState } from './mergeState.js';
import { decodeSnapshot, snapshotJson, type Snapshot } from './snapshotCodec.js';

const NOW_MS = Date.parse('2026-03-01T10:00:00Z');
const pending = (d: ValidDelta): PendingDelta => ({ delta: d, file: `archive/merge-x/${inboxName(d)}` });

const policyArb: fc.Arbitrary<FieldPolicy> = fc.oneof(
  fc.constantFrom<FieldPolicy>('lww', 'first', 'max', 'min', 'union'),
  fc.shuffledSubarray([...WRITERS, 'w*', 'x*'], { minLength: 1 }).map((priority) => ({ priority })),
);
/** A plan's policies over the generated entity types and fields (`"*"` included). */
const policyMapArb: fc.Arbitrary<PolicyMap> = fc.dictionary(
  fc.constantFrom('agents', 'zones'),
  fc.dictionary(fc.constantFrom('status', 'load', '*'), policyArb, { minKeys: 1, maxKeys: 3 }),
  { maxKeys: 2 },
);
/** Deltas where some `ok` ones are resolutions (the pure merge does not look up the ids). */
const deltasArb = fc.tuple(deltaSetArb({ redeliveries: true }), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 })).map(([raws, res]) =>
  raws.map((r, i) => (r.status !== 'fallback' && res[i % 16] && i % 3 === 0 ? ({ ...r, resolves: ['m0.0'] } as RawDelta) : r)));

function close(state: MergeState, frame: number, deltas: ValidDelta[], policies: FieldPolicies) {
  return mergeFrame(state, { frame, deltas: deltas.map(pending), keys: TEST_KEYS, policies, nowMs: NOW_MS, maxSkewMs: 500 });
}
const permute = <T>(list: T[], keys: number[]): T[] =>
  list.map((v, i) => ({ v, k: keys[i % keys.length] ?? 0, i })).sort((a, b) => a.k - b.k || a.i - b.i).map((x) => x.v);

describe('field policies and resolutions converge (PROTOCOL v1.1 §2a)', () => {
  it('within a merge, any arrival order gives identical state, conflict records and merge record', () => {
    fc.assert(
      fc.property(policyMapArb, deltasArb, fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), (map, raws, keys, inFirst) => {
        const policies = compilePolicies(map);
        const deltas = raws.map((r) => valid(r));
        const run = (list: ValidDelta[]): string => {
          const s = createMergeState();
          close(s, 2, list.filter((d, i) => d.frame <= 2 && inFirst[i % 12]), policies);
          const out = close(s, 5, list.filter((d, i) => !(d.frame <= 2 && inFirst[i % 12])), policies);
          return JSON.stringify({ state: stateJson(s), record: out.record, conflicts: out.conflicts });
        };
        // Which delta goes to which merge is decided by its index in `deltas`, so permute inside each.
        const expected = run(deltas);
        const order = permute(deltas.map((d, i) => i), keys);
        const s = createMergeState();
        const first = order.filter((i) => deltas[i].frame <= 2 && inFirst[i % 12]).map((i) => deltas[i]);
        const second = order.filter((i) => !(deltas[i].frame <= 2 && inFirst[i % 12])).map((i) => deltas[i]);
        close(s, 2, first, policies);
        const out = close(s, 5, second, policies);
        expect(JSON.stringify({ state: stateJson(s), record: out.record, conflicts: out.conflicts })).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });

  const splitConverges = (maps: fc.Arbitrary<PolicyMap>, numRuns: number) => () => {
    const arb = fc.tuple(maps, deltasArb).chain(([map, raws]) => {
      const deltas = distinctIdentities(raws.map((r) => valid(r)));
      return fc.record({
        map: fc.constant(map),
        deltas: fc.constant(deltas),
        frames: fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { maxLength: 4 }).map((f) => f.sort((a, b) => a - b)),
        choice: fc.array(fc.nat(), { minLength: deltas.length, maxLength: deltas.length }),
        order: fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
      });
    });
    fc.assert(
      fc.property(arb, ({ map, deltas, frames, choice, order }) => {
        const policies = compilePolicies(map);
        const single = createMergeState();
        close(single, 5, deltas, policies);
        const split = createMergeState();
        for (const { frame, deltas: batch } of splitIntoMerges(deltas, frames, choice)) close(split, frame, permute(batch, order), policies);
        expect(stateJson(split)).toBe(stateJson(single));
      }),
      { numRuns },
    );
  };
  it('any split of distinct identities into merges ends in the single-merge state, under any policies', splitConverges(policyMapArb, 500));
  it('the same with every field a union (element order by first stamp, late earlier writes included)', splitConverges(fc.constant({ agents: { '*': 'union' }, zones: { '*': 'union' } }), 1500));

  it('a field a resolution wrote holds the latest resolution write, whatever its policy and the ordinary writes', () => {
    fc.assert(
      fc.property(policyMapArb, deltasArb, (map, raws) => {
        const deltas = distinctIdentities(raws.map((r) => valid(r))).filter((d) => d.status === 'ok');
        const s = createMergeState();
        close(s, 5, deltas, compilePolicies(map));
        const latest = new Map<string, { value: unknown; stamp: ReturnType<typeof stampOf> }>();
        for (const d of deltas) {
          if (!d.resolves) continue;
          d.writes.forEach((w, k) => {
            const stamp = stampOf(d, d.items.length + k);
            const key = JSON.stringify([w.type, w.id, w.field]);
            const held = latest.get(key);
            if (!held || compareStamps(stamp, held.stamp) > 0) latest.set(key, { value: w.value, stamp });
          });
        }
        const state = toState(s);
        for (const [key, { value }] of latest) {
          const [type, id, field] = JSON.parse(key) as [string, string, string];
          expect(state.entities[type][id][field]).toEqual(value);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('a snapshot (resolution flags, item places, union elements) continues exactly as the live state', () => {
    fc.assert(
      fc.property(policyMapArb, deltasArb, fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), (map, raws, inFirst) => {
        const policies = compilePolicies(map);
        const deltas = distinctIdentities(raws.map((r) => valid(r)));
        const first = deltas.filter((d, i) => d.frame <= 2 && inFirst[i % 12]);
        const rest = deltas.filter((d) => !first.includes(d));
        const live = createMergeState();
        close(live, 2, first, policies);
        const text = snapshotJson(live, null);
        const restored = decodeSnapshot(JSON.parse(text) as Snapshot, TEST_KEYS);
        restored.applied = new Map(live.applied);
        expect(snapshotJson(restored, null)).toBe(text);
        const a = close(live, 5, rest, policies);
        const b = close(restored, 5, rest, policies);
        expect(stateJson(restored)).toBe(stateJson(live));
        // (A snapshot holds items as canonical JSON: compare the records canonically too.)
        expect(canonicalJson(b.conflicts as unknown as JsonValue)).toBe(canonicalJson(a.conflicts as unknown as JsonValue));
        expect(snapshotJson(restored, null)).toBe(snapshotJson(live, null));
      }),
      { numRuns: 400 },
    );
  });
});
