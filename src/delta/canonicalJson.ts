import type { JsonValue } from './types.js';

/**
 * Serialises a JSON value canonically (RFC 8785 key order): object keys sorted by UTF-16 code
 * unit, no whitespace, numbers and strings as `JSON.stringify` writes them (which RFC 8785 adopts).
 * Equal meaning gives equal bytes, so hashes of the result identify content.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalJson(value[i]);
    }
    return out + ']';
  }
  // Default sort compares UTF-16 code units, which is exactly RFC 8785's order.
  const keys = Object.keys(value).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (i > 0) out += ',';
    out += JSON.stringify(k) + ':' + canonicalJson(value[k]);
  }
  return out + '}';
}
