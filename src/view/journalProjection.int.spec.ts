import { afterEach, describe, expect, it } from 'vitest';
import { delta, givenStore, type GivenStore } from '../testing/given.js';
import { openStreamAppender, type JsonValue } from '../stream/index.js';
import { MERGE_JOURNAL, updateView, type Projection } from './index.js';

let g: GivenStore | undefined;
afterEach(() => g?.dispose());

type Tally = { merges: number; applied: number; gates: { [result: string]: number } };

/** A projection over the merge journal and a stream at once: merges and deltas applied, gate results. */
const tally: Projection<Tally> = {
  name: 'tally',
  version: 1,
  sources: [MERGE_JOURNAL, 'audit'],
  initialState: () => ({ merges: 0, applied: 0, gates: {} }),
  evolve(s, r, source) {
    if (source === 'journal:merges') {
      s.merges++;
      s.applied += Array.isArray(r['applied']) ? (r['applied'] as JsonValue[]).length : 0;
    } else if (typeof r['result'] === 'string') {
      s.gates[r['result']] = (s.gates[r['result']] ?? 0) + 1;
    }
    return s;
  },
};

describe('a projection over the merge journal and a stream', () => {
  it('follows both from its checkpoint, and equals a rebuild', async () => {
    g = await givenStore();
    await g.put(delta({ frame: 1, writer: 'a', counters: { n: 1 } }), delta({ frame: 1, writer: 'b', counters: { n: 1 } }));
    await g.merge();
    const audit = openStreamAppender(g.dir, 'audit');
    await audit.append({ type: 'gate', result: 'fail' });
    expect((await updateView(g.dir, tally)).view.state).toEqual({ merges: 1, applied: 2, gates: { fail: 1 } });
    await g.put(delta({ frame: 2, writer: 'a', counters: { n: 1 } }));
    await g.merge();
    await audit.append({ type: 'gate', result: 'pass' });
    await audit.close();
    const inc = await updateView(g.dir, tally);
    expect(inc.applied).toBe(2);
    expect(inc.view.state).toEqual({ merges: 2, applied: 3, gates: { fail: 1, pass: 1 } });
    expect((await updateView(g.dir, tally, { rebuild: true })).view).toEqual(inc.view);
  });
});
