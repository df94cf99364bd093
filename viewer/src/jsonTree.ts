/** A row of a flattened JSON tree: a container (object, array) or a leaf value. */
export interface TreeRow {
  path: Array<string | number>;
  key: string;
  depth: number;
  kind: 'object' | 'array' | 'leaf';
  /** Leaves: the value as compact JSON. Containers: how many children. */
  text: string;
  size: number;
}

export const pathKey = (p: Array<string | number>): string => JSON.stringify(p);

/** Flattens `value` into rows, descending only into containers whose path is in `open`. */
export function flattenTree(value: unknown, open: (key: string, depth: number) => boolean): TreeRow[] {
  const rows: TreeRow[] = [];
  const walk = (v: unknown, path: Array<string | number>, key: string, depth: number): void => {
    if (v !== null && typeof v === 'object') {
      const isArray = Array.isArray(v);
      const entries: Array<[string | number, unknown]> = isArray ? (v as unknown[]).map((x, i) => [i, x]) : Object.entries(v as object);
      if (entries.length === 0) {
        rows.push({ path, key, depth, kind: 'leaf', text: isArray ? '[]' : '{}', size: 0 });
        return;
      }
      rows.push({ path, key, depth, kind: isArray ? 'array' : 'object', text: '', size: entries.length });
      if (!open(pathKey(path), depth)) return;
      for (const [k, x] of entries) walk(x, [...path, k], String(k), depth + 1);
      return;
    }
    rows.push({ path, key, depth, kind: 'leaf', text: JSON.stringify(v), size: 0 });
  };
  if (value !== null && typeof value === 'object') {
    for (const [k, x] of Object.entries(value as object)) walk(x, [k], k, 0);
  }
  return rows;
}
