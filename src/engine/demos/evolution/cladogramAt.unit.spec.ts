import { describe, expect, it } from 'vitest';
import { cladogramAt, type Cladogram, type CladeNode } from './cladogram.js';

const node = (id: string, parent: string | null, born: number, extinct: number | null): CladeNode => ({ id, parent, founder: null, born, extinct, island: 0, births: 0, deaths: 0 });
const c: Cladogram = { root: 'LUCA', lastFrame: 100, nodes: [node('a', null, 0, null), node('b', 'a', 20, 60), node('c', 'a', 50, null), node('d', 'b', 40, 45)] };

describe('cladogramAt', () => {
  it('keeps the species born by the frame, alive if they died later, and ends time there', () => {
    const at = cladogramAt(c, 50);
    expect(at.lastFrame).toBe(50);
    expect(at.nodes.map((n) => [n.id, n.extinct])).toEqual([['a', null], ['b', null], ['c', null], ['d', 45]]);
    expect(cladogramAt(c, 10).nodes.map((n) => n.id)).toEqual(['a']);
    expect(cladogramAt(c, 100)).toBe(c);
    expect(cladogramAt(c, 500)).toBe(c);
  });
});
