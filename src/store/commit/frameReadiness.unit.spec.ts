import { describe, expect, it } from 'vitest';
import type { InboxScan } from '../inbox/inbox.js';
import { createFrameReadiness } from './frameReadiness.js';

/** An inbox scan holding deltas `[frame, writer]`. */
const scan = (...ds: Array<[number, string]>): InboxScan => ({ valid: ds.map(([frame, writer]) => ({ delta: { frame, writer } })), bad: [] }) as unknown as InboxScan;

describe('frame readiness (merge --watch)', () => {
  it('closes a frame once every expected writer reported, and not before (until the timeout)', () => {
    const r = createFrameReadiness(['a', 'b'], 1000);
    expect(r.decide(scan([1, 'a']), null, 0, 500)).toMatchObject({ frames: [], due: false, waitMs: 500 });
    expect(r.decide(scan([1, 'a']), null, 999, 500)).toMatchObject({ frames: [], due: false, waitMs: 1 });
    expect(r.decide(scan([1, 'a']), null, 1000, 500)).toMatchObject({ frames: [1], due: true });
    expect(createFrameReadiness(['a', 'b'], 1000).decide(scan([1, 'a'], [1, 'b']), null, 0, 500)).toMatchObject({ frames: [1], due: true });
  });

  it('a backlog found in the inbox closes at once: a writer with a later frame has moved past the earlier ones', () => {
    const r = createFrameReadiness(['a', 'b'], 60_000);
    // a skipped frame 2 (nothing to say); both went on to frame 3.
    const backlog = scan([1, 'a'], [1, 'b'], [2, 'b'], [3, 'a'], [3, 'b'], [4, 'a']);
    expect(r.decide(backlog, null, 0, 500)).toMatchObject({ frames: [1, 2, 3], due: true });
  });

  it('a writer that has not moved past a frame still holds it (until the timeout)', () => {
    const r = createFrameReadiness(['a', 'b', 'c'], 60_000);
    // c never reported: frames wait for it even though a and b went on.
    expect(r.decide(scan([1, 'a'], [1, 'b'], [2, 'a'], [2, 'b']), null, 0, 500)).toMatchObject({ frames: [], due: false });
    expect(r.decide(scan([1, 'a'], [1, 'b'], [2, 'a'], [2, 'b'], [3, 'c']), null, 1, 500)).toMatchObject({ frames: [1, 2], due: true });
  });

  it('without expected writers only the timeout closes a frame', () => {
    const r = createFrameReadiness([], 100);
    expect(r.decide(scan([1, 'a'], [2, 'a']), null, 0, 500).frames).toEqual([]);
    expect(r.decide(scan([1, 'a'], [2, 'a']), null, 100, 500).frames).toEqual([1, 2]);
  });
});
