import { describe, expect, it } from 'vitest';
import { createRng } from './createRng.js';

describe('createRng', () => {
  it('draws the same numbers for the same seed, and others for another seed', () => {
    const a = createRng(42), b = createRng('42'), c = createRng(43);
    const da = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(da);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(da);
    for (const x of da) expect(x >= 0 && x < 1).toBe(true);
  });

  it('splits by label alone, whatever the parent drew before', () => {
    const a = createRng(1), b = createRng(1);
    for (let i = 0; i < 100; i++) b.next();
    expect(a.split('shard-3').next()).toBe(b.split('shard-3').next());
    expect(a.split('shard-3').next()).not.toBe(a.split('shard-4').next());
    expect(a.split('x').key).toBe('1/x');
  });

  it('int, range, chance, pick and shuffle stay in bounds', () => {
    const r = createRng('bounds');
    for (let i = 0; i < 1000; i++) {
      const n = r.int(7);
      expect(Number.isInteger(n) && n >= 0 && n < 7).toBe(true);
      const m = r.range(-2, 2);
      expect(m >= -2 && m <= 2).toBe(true);
    }
    expect(r.pick([])).toBeUndefined();
    expect(r.shuffle([1, 2, 3, 4]).sort()).toEqual([1, 2, 3, 4]);
    const mean = Array.from({ length: 4000 }, () => r.normal()).reduce((s, x) => s + x, 0) / 4000;
    expect(Math.abs(mean)).toBeLessThan(0.1);
  });
});
