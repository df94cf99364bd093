// The fast path that builds canonical state text from cached fragments must equal the plain
// canonical JSON of the state object, byte for byte, for any state the engine can reach.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../delta/canonicalJson.js';
import type { JsonValue } from '../delta/types.js';
import { deltaSetArb, TEST_KEYS, valid } from '../testing/deltaArbitraries.js';
import { stateJson, toState } from './canonicalState.js';
import { mergeFrame } from './mergeFrame.js';
import { createMergeState } from './mergeState.js';
import { decodeSnapshot, encodeSnapshot, snapshotJson, snapshotJsonV1 } from './snapshotCodec.js';

describe('stateJson', () => {
  it('equals canonicalJson(toState(state)), after every merge and through snapshots (v2, v2 with keys written out, v1)', () => {
    fc.assert(fc.property(deltaSetArb({ redeliveries: true }), deltaSetArb({ redeliveries: false }), (a, b) => {
      const s = createMergeState();
      for (const [frame, set] of [[3, a], [5, b]] as const) {
        mergeFrame(s, { frame, deltas: set.map((r) => valid(r)).map((d, i) => ({ delta: d, file: `f${i}` })), keys: TEST_KEYS, nowMs: 0, maxSkewMs: 0 });
        expect(stateJson(s)).toBe(canonicalJson(toState(s) as unknown as JsonValue));
      }
      expect(stateJson(decodeSnapshot(JSON.parse(JSON.stringify(encodeSnapshot(s))), TEST_KEYS))).toBe(stateJson(s));
      expect(stateJson(decodeSnapshot(JSON.parse(snapshotJson(s, null, true)), {}))).toBe(stateJson(s));
      expect(stateJson(decodeSnapshot(JSON.parse(snapshotJsonV1(s, null)), {}))).toBe(stateJson(s));
      expect(snapshotJson(s, 'ab')).toBe(canonicalJson({ ...encodeSnapshot(s), record_sha256: 'ab' } as unknown as JsonValue));
      expect(snapshotJson(s, null)).toBe(canonicalJson(encodeSnapshot(s) as unknown as JsonValue));
    }), { numRuns: 300 });
  });
  it('writes the empty state with all three keys', () => {
    expect(stateJson(createMergeState())).toBe('{"counters":{},"entities":{},"items":{}}');
  });
});
