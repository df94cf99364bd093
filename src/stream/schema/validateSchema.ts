import { parseInstant } from '../parseInstant.js';
import type { JsonValue } from '../StreamRecord.js';

/** A JSON Schema (the subset framelog checks: see src/stream/schema/README.md). */
export type JsonSchema = { readonly [key: string]: JsonValue };

/**
 * Checks `value` against `schema` and returns the first problem as `field "a.b": rule`, or
 * undefined when it conforms. Supported: type, properties, required, additionalProperties,
 * items, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength,
 * maxLength, pattern, format "date-time". Other keywords are ignored.
 */
export function validateSchema(value: JsonValue | undefined, schema: JsonSchema, path: string[] = []): string | undefined {
  const at = () => (path.length === 0 ? 'the record' : `field "${path.join('.')}"`);
  const s = schema as Record<string, JsonValue>;
  if (s['type'] !== undefined) {
    const types = Array.isArray(s['type']) ? (s['type'] as string[]) : [s['type'] as string];
    if (!types.some((t) => hasType(value, t))) return `${at()} must be ${types.join(' or ')}, not ${describe(value)}`;
  }
  if (s['enum'] !== undefined && !(s['enum'] as JsonValue[]).some((e) => same(e, value))) {
    return `${at()} must be one of ${(s['enum'] as JsonValue[]).map((e) => JSON.stringify(e)).join(', ')}, not ${describe(value)}`;
  }
  if (s['const'] !== undefined && !same(s['const'], value)) return `${at()} must be ${JSON.stringify(s['const'])}`;
  if (typeof value === 'number') {
    if (typeof s['minimum'] === 'number' && value < s['minimum']) return `${at()} must be ≥ ${s['minimum']}, not ${value}`;
    if (typeof s['maximum'] === 'number' && value > s['maximum']) return `${at()} must be ≤ ${s['maximum']}, not ${value}`;
    if (typeof s['exclusiveMinimum'] === 'number' && value <= s['exclusiveMinimum']) return `${at()} must be > ${s['exclusiveMinimum']}, not ${value}`;
    if (typeof s['exclusiveMaximum'] === 'number' && value >= s['exclusiveMaximum']) return `${at()} must be < ${s['exclusiveMaximum']}, not ${value}`;
  }
  if (typeof value === 'string') {
    if (typeof s['minLength'] === 'number' && [...value].length < s['minLength']) return `${at()} must have at least ${s['minLength']} characters`;
    if (typeof s['maxLength'] === 'number' && [...value].length > s['maxLength']) return `${at()} must have at most ${s['maxLength']} characters`;
    if (typeof s['pattern'] === 'string' && !new RegExp(s['pattern'], 'u').test(value)) return `${at()} must match /${s['pattern']}/, not ${JSON.stringify(value)}`;
    if (s['format'] === 'date-time' && parseInstant(value) === undefined) return `${at()} must be an RFC 3339 date-time, not ${JSON.stringify(value)}`;
  }
  if (Array.isArray(value) && s['items'] !== undefined && typeof s['items'] === 'object' && !Array.isArray(s['items'])) {
    for (let i = 0; i < value.length; i++) {
      const e = validateSchema(value[i], s['items'] as JsonSchema, [...path, String(i)]);
      if (e) return e;
    }
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, JsonValue>;
    for (const name of (s['required'] as string[] | undefined) ?? []) {
      if (!Object.hasOwn(obj, name)) return `field "${[...path, name].join('.')}" is required`;
    }
    const props = (s['properties'] ?? {}) as Record<string, JsonSchema>;
    for (const [name, v] of Object.entries(obj)) {
      if (Object.hasOwn(props, name)) {
        const e = validateSchema(v, props[name]!, [...path, name]);
        if (e) return e;
      } else if (s['additionalProperties'] === false) {
        return `field "${[...path, name].join('.')}" is not allowed (additionalProperties is false)`;
      } else if (typeof s['additionalProperties'] === 'object' && s['additionalProperties'] !== null) {
        const e = validateSchema(v, s['additionalProperties'] as JsonSchema, [...path, name]);
        if (e) return e;
      }
    }
  }
  return undefined;
}

function hasType(v: JsonValue | undefined, t: string): boolean {
  switch (t) {
    case 'null': return v === null;
    case 'boolean': return typeof v === 'boolean';
    case 'number': return typeof v === 'number';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'string': return typeof v === 'string';
    case 'array': return Array.isArray(v);
    case 'object': return v !== null && typeof v === 'object' && !Array.isArray(v);
    default: return false;
  }
}

function describe(v: JsonValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function same(a: JsonValue, b: JsonValue | undefined): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
