import { parseInstant, StreamError, valueAt, type JsonValue, type StreamRecord } from '../stream/index.js';

export { valueAt };

/** A comparison operator of `--where` (PROTOCOL-free syntax, see docs/query.md). */
export type ConditionOp = '=' | '!=' | '>' | '>=' | '<' | '<=';

/** `path op value`: `path` is dotted; its first part may name a joined stream. */
export interface Condition {
  readonly path: readonly string[];
  readonly op: ConditionOp;
  readonly value: JsonValue;
  /** The value as typed, for `n=3` also matching the string `"3"`. */
  readonly raw: string;
}

const OPS: readonly ConditionOp[] = ['!=', '>=', '<=', '=', '>', '<'];

/**
 * Parses `field=value`, `field!=value`, `field>n`, `field>=n`, `field<n`, `field<=n`. The value is
 * JSON when it parses as JSON (`n=3`, `ok=true`), else the plain text (`status=done`).
 */
export function parseCondition(text: string): Condition {
  let at = -1;
  let op: ConditionOp | undefined;
  for (let i = 0; i < text.length && op === undefined; i++) {
    for (const o of OPS) {
      if (text.startsWith(o, i)) {
        at = i;
        op = o;
        break;
      }
    }
  }
  if (op === undefined || at <= 0) {
    throw new StreamError('BAD_FILTER', `--where ${JSON.stringify(text)} is not field OP value with OP one of = != > >= < <= (e.g. --where gate=fail, --where duration_ms>300000)`);
  }
  const path = text.slice(0, at).trim().split('.');
  if (path.some((p) => p === '')) throw new StreamError('BAD_FILTER', `--where ${JSON.stringify(text)}: the field path has an empty part`);
  const raw = text.slice(at + op.length).trim();
  let value: JsonValue;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    value = raw;
  }
  if (op !== '=' && op !== '!=' && typeof value !== 'number' && (typeof value !== 'string' || parseInstant(value) === undefined)) {
    throw new StreamError('BAD_FILTER', `--where ${JSON.stringify(text)}: ${op} compares numbers or RFC 3339 instants, and ${JSON.stringify(raw)} is neither`);
  }
  return { path, op, value, raw };
}

/** True when `record` satisfies `c` (a missing field satisfies only `!=`). */
export function testCondition(record: StreamRecord, c: Condition, path: readonly string[] = c.path): boolean {
  const v = valueAt(record, path);
  switch (c.op) {
    case '=':
      return equal(v, c);
    case '!=':
      return !equal(v, c);
    default: {
      const cmp = compare(v, c.value);
      if (cmp === undefined) return false;
      return c.op === '>' ? cmp > 0 : c.op === '>=' ? cmp >= 0 : c.op === '<' ? cmp < 0 : cmp <= 0;
    }
  }
}

function equal(v: JsonValue | undefined, c: Condition): boolean {
  if (v === undefined) return false;
  if (v === c.value || v === c.raw) return true;
  if (v !== null && typeof v === 'object') return JSON.stringify(v) === JSON.stringify(c.value);
  return false;
}

/** Numbers compare as numbers; strings as instants when both are RFC 3339 timestamps. */
function compare(v: JsonValue | undefined, want: JsonValue): number | undefined {
  if (typeof want === 'number') {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(n) ? n - want : undefined;
  }
  if (typeof want === 'string' && typeof v === 'string') {
    const a = parseInstant(v);
    const b = parseInstant(want);
    return a === undefined || b === undefined ? undefined : a - b;
  }
  return undefined;
}
