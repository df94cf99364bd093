import { describe, expect, it } from 'vitest';
import { valid } from '../testing/deltaArbitraries.js';
import type { ConflictRecord } from './records.js';
import { conflictIdsOf, parseConflictId, unknownResolution } from './resolutions.js';

const side = { value: 1, frame: 1, utc: '2026-04-19T14:00:00.000Z', writer: 'w', seq: 0 };
const field = (type: string, id: string, f: string): ConflictRecord => ({ merge: 7, kind: 'field', type, id, field: f, winner: side, losers: [side] });
const item = (collection: string, key: string): ConflictRecord => ({ merge: 7, kind: 'item', collection, key, winner: side, losers: [side] });
const delta = (frame: number, writer: string): ConflictRecord => ({ merge: 7, kind: 'delta', frame, writer, seq: 0, kept: 'a', other: 'b', file: 'f', others: [] });

describe('conflict ids (PROTOCOL v1.1 §2)', () => {
  it('parses m<merge>.<n> and nothing else', () => {
    expect(parseConflictId('m530.2')).toEqual({ merge: 530, n: 2 });
    for (const bad of ['m530', '530.2', 'm-1.0', 'm01.0', 'm1.01', 'M1.0', 'm1.0 ']) expect(parseConflictId(bad), bad).toBeUndefined();
  });

  it('records written before v1.1 (fields, then items, by first touch) get the ids of the v1.1 order: delta, item, field, each by place', () => {
    const old = [field('zones', 'a', 'x'), field('agents', '2', 'load'), field('agents', '10', 'load'), item('posts', '[2]'), item('posts', '[10]'), delta(3, 'w2'), delta(3, 'w10')];
    expect(conflictIdsOf(old)).toEqual(['m7.6', 'm7.5', 'm7.4', 'm7.3', 'm7.2', 'm7.1', 'm7.0']);
    const numbered = old.map((c, i) => ({ ...c, conflict: `m7.${i}` }));
    expect(conflictIdsOf(numbered)).toEqual(numbered.map((c) => c.conflict)); // v1.1 records carry their own
  });

  it('a resolution naming an id the journal does not hold is unknown, with a one-line reason', () => {
    const counts = new Map([[3, 2]]);
    const r = (ids: string[]) => unknownResolution(valid({ frame: 9, writer: 'human.ana', utc: '2026-04-19T14:00:00Z', resolves: ids }), counts);
    expect(r(['m3.0', 'm3.1'])).toBeUndefined();
    expect(r(['m3.0', 'm3.2'])).toBe('resolves[1]: resolves unknown conflict m3.2 (merge 3 recorded 2)');
    expect(r(['m4.0'])).toBe('resolves[0]: resolves unknown conflict m4.0 (merge 4 recorded no conflicts)');
    expect(unknownResolution(valid({ frame: 9, writer: 'w', utc: '2026-04-19T14:00:00Z' }), counts)).toBeUndefined();
  });
});
