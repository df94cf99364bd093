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

  it('by quorum (#19 point 6): a frame closes once count distinct writers matching the pattern reported or moved past it, besides every listed writer', () => {
    const many = Array.from({ length: 1000 }, (_, i) => [1, `agent-${i}`] as [number, string]);
    const r = createFrameReadiness([], 60_000, { count: 1000, match: 'agent-*' });
    expect(r.decide(scan(...many.slice(0, 999)), null, 0, 500).frames).toEqual([]);
    expect(r.decide(scan(...many.slice(0, 999), [1, 'probe']), null, 1, 500).frames).toEqual([]); // not an agent: not counted
    expect(r.decide(scan(...many), null, 2, 500)).toMatchObject({ frames: [1], due: true });
    // Moved past: 2 writers at frame 2, 1 of them already at frame 3; count 2 closes 2 (and 1 needs only the timeout).
    const q = createFrameReadiness([], 60_000, { count: 2 });
    expect(q.decide(scan([2, 'x'], [2, 'y'], [3, 'y']), null, 0, 500).frames).toEqual([2]);
    // With listed writers too: both conditions.
    const both = createFrameReadiness(['boss'], 60_000, { count: 2, match: 'w*' });
    expect(both.decide(scan([1, 'w1'], [1, 'w2']), null, 0, 500).frames).toEqual([]);
    expect(both.decide(scan([1, 'w1'], [1, 'w2'], [1, 'boss']), null, 1, 500).frames).toEqual([1]);
    // The timeout still closes a frame short of its quorum.
    const short = createFrameReadiness([], 100, { count: 5 });
    expect(short.decide(scan([1, 'a']), null, 0, 500).frames).toEqual([]);
    expect(short.decide(scan([1, 'a']), null, 100, 500).frames).toEqual([1]);
  });
});
