import { describe, expect, it } from 'vitest';
import { dispatchTimeline } from './dispatchTimeline.js';

describe('dispatchTimeline', () => {
  it('ignores records that are not lifecycle records, and receipts outside every life', () => {
    const d = dispatchTimeline(
      [{ type: 'note', agent: 'a', event: 'start', frame: 1 }, { type: 'lifecycle', agent: 'a', event: 'start', frame: 2 }, { type: 'lifecycle', agent: 'b', event: 'stop', frame: 3 }],
      [{ agent: 'a', frame: 1, status: 'ok' }, { agent: 'a', frame: 4, status: 'error' }, { agent: 'z', frame: 2, status: 'ok' }],
    );
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ id: 'a@2', from: 2, to: 4, end: null });
    expect(d[0].frames.map((f) => [f.frame, f.phase])).toEqual([[2, 'idle'], [3, 'idle'], [4, 'degraded']]);
  });
});
