import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from './types.js';
import { canonicalJson } from './canonicalJson.js';
import { contentHash } from './contentHash.js';
import { parseUtcInstant } from './utcInstant.js';

describe('canonicalJson (RFC 8785 order)', () => {
  it('sorts keys by UTF-16 code unit at every depth, without whitespace', () => {
    expect(canonicalJson({ b: 1, a: [1.0, 2.5, 'é', { z: null, y: true }] })).toBe('{"a":[1,2.5,"é",{"y":true,"z":null}],"b":1}');
    // U+E000 sorts after U+1F600's high surrogate (D83D) in UTF-16, though before it by code point.
    expect(canonicalJson({ '\u{E000}': 1, '\u{1F600}': 2 })).toBe('{"\u{1F600}":2,"\u{E000}":1}');
  });
  it('writes numbers as ECMAScript does', () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1, 100])).toBe('[1e+21,1e-7,0,0.1,100]');
  });
  it('takes the native path only where it gives the same bytes (integer-like keys, nested orders)', () => {
    // Reference: sort every object's keys, build piece by piece.
    const ref = (v: JsonValue): string => v === null || typeof v !== 'object' ? JSON.stringify(v)
      : Array.isArray(v) ? `[${v.map(ref).join(',')}]`
      : `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${ref(v[k])}`).join(',')}}`;
    expect(canonicalJson({ '10': 1, '9': 2, a: { b: 1, a: 2 } })).toBe('{"10":1,"9":2,"a":{"a":2,"b":1}}');
    // An own "__proto__" key (JSON.parse makes one) survives a reordering copy (fast-check found it).
    expect(canonicalJson(JSON.parse('{"__proto__":false,"":false}'))).toBe('{"":false,"__proto__":false}');
    fc.assert(fc.property(fc.jsonValue(), (v) => canonicalJson(v as JsonValue) === ref(v as JsonValue)), { numRuns: 2000, seed: 689043501 });
    fc.assert(fc.property(fc.jsonValue(), (v) => canonicalJson(v as JsonValue) === ref(v as JsonValue)), { numRuns: 2000 });
  });
  it('hashes meaning, not spelling', () => {
    expect(contentHash(JSON.parse('{"a": 1, "b": [ 2 ]}'))).toBe(contentHash(JSON.parse('{"b":[2],"a":1.0}')));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 1, seq: 0 }));
  });
});

describe('parseUtcInstant', () => {
  it('compares instants, never strings', () => {
    expect(parseUtcInstant('2026-04-19T14:30:00.5Z')! > parseUtcInstant('2026-04-19T14:30:00Z')!).toBe(true);
    // A leap second only at 23:59:60 UTC on a month's last day (issue #20 point 13); year 0000 is no instant.
    expect(parseUtcInstant('2016-12-31T23:59:60Z')).toBe(Date.parse('2016-12-31T23:59:59.999Z'));
    expect(parseUtcInstant('2015-06-30T23:59:60Z')).toBe(Date.parse('2015-06-30T23:59:59.999Z'));
    expect(parseUtcInstant('2016-12-31T18:59:60-05:00')).toBe(Date.parse('2016-12-31T23:59:59.999Z'));
    for (const bad of ['2026-04-19T14:30:60Z', '2016-12-31T22:59:60Z', '2016-12-30T23:59:60Z', '2016-12-31T23:59:60+01:00', '0000-01-01T00:00:00Z']) expect(parseUtcInstant(bad), bad).toBeUndefined();
    expect(parseUtcInstant('0001-01-01T00:00:00Z')).toBe(Date.UTC(2000, 0, 1) - 730119 * 86_400_000);
    expect(parseUtcInstant('2026-04-19T16:30:00+02:00')).toBe(parseUtcInstant('2026-04-19T14:30:00Z'));
    expect(parseUtcInstant('2026-04-19T14:30:00.123456789Z')).toBe(Date.UTC(2026, 3, 19, 14, 30, 0, 123));
    expect(parseUtcInstant('0001-01-01T00:00:00Z')).toBe(-62135596800000);
  });
  it('refuses what is not RFC 3339', () => {
    for (const bad of ['yesterday', '2026-04-19', '2026-04-19T14:30:00', '2026-02-30T00:00:00Z', '2025-02-29T00:00:00Z', '2026-04-19T24:00:00Z', '2026-04-19T14:30:00+25:00', '2026-04-19 14:30:00Z ', ' 2026-04-19T14:30:00Z']) {
      expect(parseUtcInstant(bad), bad).toBeUndefined();
    }
    expect(parseUtcInstant('2024-02-29T00:00:00Z')).toBeDefined();
  });
});
