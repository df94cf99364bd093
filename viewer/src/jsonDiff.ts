/** One difference inside two JSON values: where, and what it was and became. */
export interface JsonChange {
  /** The path from the value's root: object keys and array indexes. */
  path: Array<string | number>;
  kind: 'added' | 'removed' | 'changed';
  old?: unknown;
  new?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What changed inside `a` to make `b`, leaf by leaf: objects are compared key by key, arrays index
 * by index (an array that grew lists its new elements as added), anything else as a whole. Equal
 * values give nothing. At most `limit` changes are listed (the rest are counted in `more`).
 */
export function jsonDiff(a: unknown, b: unknown, limit = 5000): { changes: JsonChange[]; more: number } {
  const changes: JsonChange[] = [];
  let more = 0;
  const push = (c: JsonChange): void => {
    if (changes.length < limit) changes.push(c);
    else more++;
  };
  const walk = (x: unknown, y: unknown, path: Array<string | number>): void => {
    if (isObject(x) && isObject(y)) {
      for (const k of Object.keys(x)) {
        if (!(k in y)) push({ path: [...path, k], kind: 'removed', old: x[k] });
        else walk(x[k], y[k], [...path, k]);
      }
      for (const k of Object.keys(y)) if (!(k in x)) push({ path: [...path, k], kind: 'added', new: y[k] });
      return;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) walk(x[i], y[i], [...path, i]);
      for (let i = n; i < x.length; i++) push({ path: [...path, i], kind: 'removed', old: x[i] });
      for (let i = n; i < y.length; i++) push({ path: [...path, i], kind: 'added', new: y[i] });
      return;
    }
    if (x === undefined && y !== undefined) push({ path, kind: 'added', new: y });
    else if (y === undefined && x !== undefined) push({ path, kind: 'removed', old: x });
    else if (JSON.stringify(x) !== JSON.stringify(y)) push({ path, kind: 'changed', old: x, new: y });
  };
  walk(a, b, []);
  return { changes, more };
}

/** A path as people read it: `organisms[3].genome.size`. */
export const pathText = (p: Array<string | number>): string =>
  p.map((k, i) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? (i === 0 ? k : `.${k}`) : `[${JSON.stringify(k)}]`)).join('') || '(the whole value)';
