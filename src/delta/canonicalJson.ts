import type { JsonValue } from './types.js';

/**
 * True when every object in `v` already has its keys in code-unit order: then `JSON.stringify`
 * writes its canonical form, natively (much faster than building it piece by piece).
 */
function sortedDeep(v: JsonValue): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== null && typeof x === 'object' && !sortedDeep(x)) return false;
    }
    return true;
  }
  let prev: string | undefined;
  for (const k in v) {
    if (prev !== undefined && !(prev < k)) return false;
    prev = k;
    const x = v[k];
    if (x !== null && typeof x === 'object' && !sortedDeep(x)) return false;
  }
  return true;
}

/**
 * Serialises a JSON value canonically (RFC 8785 key order): object keys sorted by UTF-16 code
 * unit, no whitespace, numbers and strings as `JSON.stringify` writes them (which RFC 8785 adopts).
 * Equal meaning gives equal bytes, so hashes of the result identify content. A subtree whose
 * keys are already in order (the common case for data a program wrote) is handed to
 * `JSON.stringify` whole.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (sortedDeep(value)) return JSON.stringify(value);
  return canonicalSlow(value);
}

function canonicalSlow(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const x = value[i];
      out += x !== null && typeof x === 'object' && sortedDeep(x) ? JSON.stringify(x) : canonicalSlow(x);
    }
    return out + ']';
  }
  // Default sort compares UTF-16 code units, which is exactly RFC 8785's order.
  const keys = Object.keys(value).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (i > 0) out += ',';
    const x = value[k];
    out += JSON.stringify(k) + ':' + (x !== null && typeof x === 'object' && sortedDeep(x) ? JSON.stringify(x) : canonicalSlow(x));
  }
  return out + '}';
}
