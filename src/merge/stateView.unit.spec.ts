// The engine's ticks read state through stateView: it must read exactly as the canonical state
// object does (same keys, same order, same values), after any merge, and refuse every write.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deltaSetArb, TEST_KEYS, valid } from '../testing/deltaArbitraries.js';
import { toState } from './canonicalState.js';
import { mergeFrame } from './mergeFrame.js';
import { createMergeState } from './mergeState.js';
import { stateView } from './stateView.js';

describe('stateView', () => {
  it('reads as toState does, key order included, and follows later merges', () => {
    fc.assert(fc.property(deltaSetArb({ redeliveries: true }), deltaSetArb({ redeliveries: false }), (a, b) => {
      const s = createMergeState();
      const view = stateView(s);
      for (const [frame, set] of [[3, a], [5, b]] as const) {
        mergeFrame(s, { frame, deltas: set.map((r) => valid(r)).map((d, i) => ({ delta: d, file: `f${i}` })), keys: TEST_KEYS, nowMs: 0, maxSkewMs: 0 });
        expect(JSON.stringify(view)).toBe(JSON.stringify(toState(s)));
        for (const t of Object.keys(view.entities)) expect(Object.keys(view.entities[t])).toEqual(Object.keys(toState(s).entities[t]));
        for (const c of Object.keys(view.items)) {
          expect(Array.isArray(view.items[c])).toBe(true);
          expect(view.items[c].map((x) => x)).toEqual(toState(s).items[c]);
        }
      }
    }), { numRuns: 200 });
  });

  it('refuses writes at every level, values included', () => {
    const s = createMergeState();
    mergeFrame(s, { frame: 1, deltas: [{ delta: valid({ frame: 1, writer: 'w0', utc: '2026-03-01T10:00:00Z', items: { posts: [{ id: 1, title: 'a' }] }, counters: { n: 1 }, set: { agents: { '10': { tags: ['x'] }, '9': { tags: [] } } } }), file: 'f' }], keys: TEST_KEYS, nowMs: 0, maxSkewMs: 0 });
    const v = stateView(s);
    expect(Object.keys(v.entities.agents)).toEqual(['10', '9']); // code-unit order, as the canonical state
    expect(() => { (v.counters as Record<string, number>).n = 2; }).toThrow(/read-only/);
    expect(() => { delete (v.entities as Record<string, unknown>).agents; }).toThrow(/read-only/);
    expect(() => { (v.items.posts as unknown[]).push({ id: 2 }); }).toThrow();
    expect(() => { (v.entities.agents['10'].tags as string[]).push('y'); }).toThrow();
    expect(() => { (v.items.posts[0] as Record<string, unknown>).title = 'b'; }).toThrow();
    expect(toState(s).counters.n).toBe(1);
  });
});
