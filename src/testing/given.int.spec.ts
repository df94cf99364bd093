// The given/when/then helper reads like the protocol: given deltas, when a frame merges, then state is …
import { afterEach, describe, expect, it } from 'vitest';
import { delta, givenStore, stateOf, type GivenStore } from './given.js';

describe('givenStore', () => {
  let s: GivenStore | undefined;
  afterEach(() => s?.dispose());

  it('given two writers, when frame 3 merges, then counters sum and the later write wins', async () => {
    s = await givenStore();
    await s.put(
      delta({ frame: 3, writer: 'w1', utc: '2026-03-01T10:00:00Z', counters: { n: 1 }, set: { agents: { '42': { status: 'idle' } } } }),
      delta({ frame: 3, writer: 'w2', utc: '2026-03-01T10:00:00.5Z', counters: { n: 2 }, set: { agents: { '42': { status: 'busy' } } } }),
    );
    const [record] = await s.merge();
    expect(record.frame).toBe(3);
    expect(await s.state()).toEqual(stateOf({ counters: { n: 3 }, entities: { agents: { '42': { status: 'busy' } } } }));
    expect(await s.state(2)).toEqual(stateOf());
    expect((await s.conflicts()).map((c) => c.kind)).toEqual(['field']);
    expect((await s.verify()).ok).toBe(true);
  });

  it('drop() bypasses validation, copy() gives an independent store', async () => {
    s = await givenStore();
    s.drop('bad.json', '{"frame":1}');
    await s.put(delta({ frame: 1, writer: 'w1', counters: { n: 1 } }));
    const [record] = await s.merge();
    expect(record.quarantined.map((q) => q.file)).toEqual(['bad.json']);
    const c = await s.copy();
    try {
      await c.put(delta({ frame: 2, writer: 'w1', counters: { n: 1 } }));
      await c.merge();
      expect((await c.state()).counters).toEqual({ n: 2 });
      expect((await s.state()).counters).toEqual({ n: 1 });
    } finally {
      c.dispose();
    }
  });
});
