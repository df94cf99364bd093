import { describe, expect, it } from 'vitest';
import { jsonDiff, pathText } from './jsonDiff.js';

describe('jsonDiff (the diff view\'s nested changes)', () => {
  it('lists leaf changes inside objects and arrays, additions and removals, and nothing for equal values', () => {
    const a = { size: 3, genome: { a: 1, b: [1, 2, 3] }, gone: true, list: [{ id: 1, hp: 5 }, { id: 2, hp: 7 }] };
    const b = { size: 4, genome: { a: 1, b: [1, 9, 3, 4] }, list: [{ id: 1, hp: 5 }], born: 'x' };
    expect(jsonDiff(a, b).changes.map((c) => [pathText(c.path), c.kind, c.old, c.new])).toEqual([
      ['size', 'changed', 3, 4],
      ['genome.b[1]', 'changed', 2, 9],
      ['genome.b[3]', 'added', undefined, 4],
      ['gone', 'removed', true, undefined],
      ['list[1]', 'removed', { id: 2, hp: 7 }, undefined],
      ['born', 'added', undefined, 'x'],
    ]);
    expect(jsonDiff({ x: [1, { y: 2 }] }, { x: [1, { y: 2 }] })).toEqual({ changes: [], more: 0 });
    expect(jsonDiff(1, 'one').changes).toEqual([{ path: [], kind: 'changed', old: 1, new: 'one' }]);
    expect(jsonDiff(undefined, { a: 1 }).changes).toEqual([{ path: [], kind: 'added', new: { a: 1 } }]);
    expect(jsonDiff({ a: [1] }, { a: { 0: 1 } }).changes).toEqual([{ path: ['a'], kind: 'changed', old: [1], new: { 0: 1 } }]);
  });

  it('caps what it lists and counts the rest; paths read as code', () => {
    const big = (n: number) => Array.from({ length: n }, (_, i) => i);
    expect(jsonDiff([], big(10), 4)).toMatchObject({ more: 6 });
    expect(jsonDiff([], big(10), 4).changes).toHaveLength(4);
    expect(pathText(['organisms', 3, 'odd key', 'x'])).toBe('organisms[3]["odd key"].x');
    expect(pathText([])).toBe('(the whole value)');
  });
});
