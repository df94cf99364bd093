import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, parsePlan, type Plan } from '../delta/plan.js';
import { validateDelta } from '../delta/validateDelta.js';
import type { ValidDelta } from '../delta/types.js';
import { createMergeState, type MergeState } from './mergeState.js';
import { mergeFrame, type MergeOutcome } from './mergeFrame.js';
import { toState } from './canonicalState.js';

const T = (s: number) => new Date(Date.UTC(2026, 3, 19, 14, 30, s)).toISOString();
function delta(raw: Record<string, unknown>, plan: Plan = DEFAULT_PLAN): ValidDelta {
  const c = validateDelta(raw, plan);
  if (!c.ok) throw new Error(`test delta invalid: ${c.problem.field}: ${c.problem.rule}`);
  return c.delta;
}
/** Given a state, when frame `frame` merges `deltas`, then… */
function merge(state: MergeState, frame: number, deltas: ValidDelta[], extra: Partial<Parameters<typeof mergeFrame>[1]> = {}): MergeOutcome {
  return mergeFrame(state, { frame, deltas: deltas.map((d) => ({ delta: d, file: `f-${d.writer}-${d.sha256.slice(0, 6)}` })), keys: {}, nowMs: Date.UTC(2026, 3, 19, 15), maxSkewMs: 300_000, ...extra });
}

describe('counters', () => {
  it('sum every increment, negative and zero included; a zero counter still appears', () => {
    const s = createMergeState();
    merge(s, 1, [
      delta({ frame: 1, writer: 'a', utc: T(1), counters: { n: 2, z: 0 } }),
      delta({ frame: 1, writer: 'b', utc: T(2), counters: { n: -5 } }),
    ]);
    expect(toState(s).counters).toEqual({ n: -3, z: 0 });
  });
});

describe('items', () => {
  it('first write by stamp wins per natural key, and the array follows the winners’ stamps', () => {
    const s = createMergeState();
    const out = merge(s, 1, [
      delta({ frame: 1, writer: 'b', utc: T(2), items: { posts: [{ id: 1, t: 'b' }, { id: 2, t: 'b2' }] } }),
      delta({ frame: 1, writer: 'a', utc: T(1), items: { posts: [{ id: 2, t: 'a2' }] } }),
    ]);
    expect(toState(s).items.posts).toEqual([{ id: 2, t: 'a2' }, { id: 1, t: 'b' }]);
    expect(out.conflicts).toMatchObject([{ kind: 'item', collection: 'posts', key: '[2]', winner: { value: { id: 2, t: 'a2' }, writer: 'a' }, losers: [{ value: { id: 2, t: 'b2' }, writer: 'b' }] }]);
  });

  it('a late item with an earlier stamp takes the place of the stored one, and the loser is recorded', () => {
    const s = createMergeState();
    merge(s, 2, [delta({ frame: 2, writer: 'b', utc: T(20), items: { posts: [{ id: 7, t: 'two' }, { id: 8 }] } })]);
    const out = merge(s, 3, [delta({ frame: 1, writer: 'a', utc: T(10), items: { posts: [{ id: 7, t: 'one' }, { id: 6 }] } })]);
    expect(toState(s).items.posts).toEqual([{ id: 7, t: 'one' }, { id: 6 }, { id: 8 }]);
    expect(out.conflicts).toHaveLength(1);
    expect(out.conflicts[0]).toMatchObject({ kind: 'item', merge: 3, winner: { writer: 'a', frame: 1 }, losers: [{ writer: 'b', frame: 2 }] });
    expect(out.record.late).toHaveLength(1);
  });

  it('keys from the plan, a list of fields; keyless items dedup by content; an empty array adds nothing', () => {
    const s = createMergeState();
    const out = merge(s, 1, [
      delta({ frame: 1, writer: 'a', utc: T(1), items: { comments: [{ target: 1, body: 'x', n: 1 }, { target: 1, body: 'x', n: 2 }], tags: [{ name: 't' }, { name: 't' }], empty: [] } }),
    ], { keys: { comments: ['target', 'body'] } });
    const st = toState(s);
    expect(st.items.comments).toEqual([{ target: 1, body: 'x', n: 1 }]);
    expect(st.items.tags).toEqual([{ name: 't' }]);
    expect('empty' in st.items).toBe(false);
    expect(out.conflicts).toMatchObject([{ kind: 'item', collection: 'comments', key: '[1,"x"]' }]);
  });

  it('the same item with the same content is a silent duplicate, even arriving late with an earlier stamp', () => {
    const s = createMergeState();
    merge(s, 2, [delta({ frame: 2, writer: 'b', utc: T(5), items: { p: [{ id: 1 }, { id: 2 }] } })]);
    const out = merge(s, 3, [delta({ frame: 1, writer: 'a', utc: T(1), items: { p: [{ id: 2 }] } })]);
    expect(out.conflicts).toEqual([]);
    // The earliest stamp owns the position, as it would had both arrived in one merge.
    expect(toState(s).items.p).toEqual([{ id: 2 }, { id: 1 }]);
  });
});

describe('fields', () => {
  it('last write by stamp wins per (type, id, field); the conflict holds base, winner and every loser', () => {
    const s = createMergeState();
    merge(s, 1, [delta({ frame: 1, writer: 'a', utc: T(1), set: { agents: { '42': { status: 'idle' } } } })]);
    const out = merge(s, 2, [
      delta({ frame: 2, writer: 'w1', utc: T(5), set: { agents: { '42': { status: 'busy', load: 1 } } } }),
      delta({ frame: 2, writer: 'w2', utc: T(9), set: { agents: { '42': { status: 'done' } } } }),
      delta({ frame: 2, writer: 'w3', utc: T(7), set: { agents: { '42': { status: 'done' } } } }),
    ]);
    expect(toState(s).entities).toEqual({ agents: { '42': { status: 'done', load: 1 } } });
    expect(out.conflicts).toEqual([{
      merge: 2, kind: 'field', conflict: 'm2.0', type: 'agents', id: '42', field: 'status', policy: 'lww', base: 'idle',
      winner: { value: 'done', frame: 2, utc: T(9), writer: 'w2', seq: 0 },
      losers: [{ value: 'busy', frame: 2, utc: T(5), writer: 'w1', seq: 0 }],
    }]);
  });

  it('overriding the value of an earlier merge is not a conflict; a later frame beats a skewed clock', () => {
    const s = createMergeState();
    merge(s, 1, [delta({ frame: 1, writer: 'fast', utc: '2026-04-19T20:00:00Z', set: { d: { x: { t: 'old' } } } })]);
    const out = merge(s, 2, [delta({ frame: 2, writer: 'slow', utc: '2026-04-19T09:00:00Z', set: { d: { x: { t: 'new' } } } })]);
    expect(out.conflicts).toEqual([]);
    expect(toState(s).entities.d.x.t).toBe('new');
  });

  it('a late write that loses to a stored stamp is a conflict whose winner is the stored value', () => {
    const s = createMergeState();
    merge(s, 2, [delta({ frame: 2, writer: 'a', utc: T(2), set: { j: { '1': { s: 'finished' } } } })]);
    const out = merge(s, 3, [delta({ frame: 1, writer: 'b', utc: T(3), set: { j: { '1': { s: 'started' } } } })]);
    expect(toState(s).entities.j['1'].s).toBe('finished');
    expect(out.conflicts).toMatchObject([{ kind: 'field', base: 'finished', winner: { value: 'finished', frame: 2 }, losers: [{ value: 'started', frame: 1 }] }]);
  });

  it('null is a value; an entity with no fields does not appear; instants compare as instants', () => {
    const s = createMergeState();
    merge(s, 1, [
      delta({ frame: 1, writer: 'a', utc: '2026-04-19T14:30:00.5Z', set: { k: { '1': { v: 'half' } }, e: { x: {} } } }),
      delta({ frame: 1, writer: 'b', utc: '2026-04-19T16:30:00+02:00', set: { k: { '1': { v: 'whole' }, '2': { n: null } } } }),
    ]);
    expect(toState(s).entities).toEqual({ k: { '1': { v: 'half' }, '2': { n: null } } });
  });
});

describe('identity, redelivery and fallbacks', () => {
  it('skips identical copies as duplicates and records a conflicting copy, keeping the first by merge order', () => {
    const s = createMergeState();
    const a = delta({ frame: 1, writer: 'w1', utc: T(1), counters: { runs: 1 } });
    const c1 = delta({ frame: 1, writer: 'w3', utc: T(3), counters: { runs: 1 } });
    const c2 = delta({ frame: 1, writer: 'w3', utc: T(4), counters: { runs: 100 } });
    const out = merge(s, 1, [c2, a, c1, a]);
    expect(toState(s).counters.runs).toBe(2);
    expect(out.record.duplicates.map((d) => d.writer)).toEqual(['w1']);
    expect(out.conflicts).toMatchObject([{ kind: 'delta', frame: 1, writer: 'w3', seq: 0, kept: c1.sha256, other: c2.sha256 }]);
    // And in a later merge, another copy is a duplicate again: re-running never double-counts.
    const again = merge(s, 2, [a]);
    expect(again.record.duplicates).toHaveLength(1);
    expect(toState(s).counters.runs).toBe(2);
  });

  it('fallback deltas claim no identity: listed once per writer, and the real delta still applies later', () => {
    const s = createMergeState();
    const out = merge(s, 1, [
      delta({ frame: 1, writer: 'w1', utc: T(1), status: 'fallback' }),
      delta({ frame: 1, writer: 'w1', utc: T(2), status: 'fallback', seq: 1 }),
      delta({ frame: 1, writer: 'w2', utc: T(2), counters: { n: 1 } }),
    ], { expectedWriters: ['w1', 'w2', 'w3'] });
    expect(out.record.fallback).toEqual(['w1']);
    expect(out.record.missing).toEqual(['w3']);
    const late = merge(s, 2, [delta({ frame: 1, writer: 'w1', utc: T(9), counters: { n: 1 } })]);
    expect(late.record.late.map((d) => d.writer)).toEqual(['w1']);
    expect(toState(s).counters.n).toBe(2);
  });

  it('lists a delta from the merger’s future as skewed, and still applies it', () => {
    const s = createMergeState();
    const out = merge(s, 1, [delta({ frame: 1, writer: 'w', utc: '2030-01-01T00:00:00Z', counters: { n: 1 } })]);
    expect(out.record.skewed).toHaveLength(1);
    expect(out.record.applied).toHaveLength(1);
  });

  it('appends events to the log of the merge that applies them, in merge order', () => {
    const s = createMergeState();
    const out = merge(s, 4, [
      delta({ frame: 4, writer: 'b', utc: T(2), events: [{ type: 'migration', from: 'n', to: 's' }] }),
      delta({ frame: 4, writer: 'a', utc: T(1), events: [{ type: 'birth', id: 1 }, { type: 'death', id: 2 }] }),
    ]);
    expect(out.events.map((e) => [e.merge, e.writer, e.event.type])).toEqual([[4, 'a', 'birth'], [4, 'a', 'death'], [4, 'b', 'migration']]);
  });

  it('refuses to close a frame at or below the last closed one', () => {
    const s = createMergeState();
    merge(s, 3, []);
    expect(() => merge(s, 3, [])).toThrow(/not after the last closed frame 3/);
  });
});

describe('plan shape mapping', () => {
  it('merges deltas of an existing shape unchanged', () => {
    const plan = parsePlan({ shape: { items_created: { items: 'posts' }, counter_increments: 'counters', agent_updates: { set: 'agents' }, notes: 'meta', happenings: 'events' } });
    const s = createMergeState();
    const out = merge(s, 1, [delta({ frame: 1, stream_id: 'w0', utc: T(1), items_created: [{ id: 1 }], counter_increments: { n: 2 }, agent_updates: { '7': { s: 'ok' } }, notes: 'x', happenings: [{ type: 'e' }] }, plan)]);
    expect(toState(s)).toEqual({ items: { posts: [{ id: 1 }] }, counters: { n: 2 }, entities: { agents: { '7': { s: 'ok' } } } });
    expect(out.events).toHaveLength(1);
  });
});
