import { parseInstant, requireInstant } from './parseInstant.js';
import { StreamError } from './StreamError.js';
import type { JsonValue, StreamRecord } from './StreamRecord.js';

/** A field equality: the value at `path` (dotted, `a.b.c`) equals `value`. */
export interface WhereClause {
  readonly path: readonly string[];
  readonly value: JsonValue;
  /** Also accept this string (from the CLI, `n=3` matches `3` and `"3"`). */
  readonly orString?: string;
}

/** What to keep. Every part given must match (types: any one of them). */
export interface RecordFilterSpec {
  /** Keep records whose `type` is one of these. */
  readonly types?: readonly string[];
  /** Keep records whose `ts` is at or after this instant (RFC 3339 text or epoch ms). */
  readonly since?: string | number;
  /** Keep records whose `ts` is before this instant (RFC 3339 text or epoch ms). */
  readonly until?: string | number;
  readonly where?: readonly WhereClause[];
}

/** A compiled filter: true keeps the record. */
export type RecordPredicate = (record: StreamRecord) => boolean;

/**
 * Compiles a filter spec. Times compare as instants (`…:00.5Z` is after `…:00Z`, offsets
 * converted); a record without a parseable `ts` never matches a time bound. Returns `undefined`
 * when nothing is filtered, so the scanner can skip the call.
 */
export function compileRecordFilter(spec: RecordFilterSpec = {}): RecordPredicate | undefined {
  const types = spec.types && spec.types.length > 0 ? new Set(spec.types) : undefined;
  const since = spec.since === undefined ? undefined : toInstant(spec.since, 'since');
  const until = spec.until === undefined ? undefined : toInstant(spec.until, 'until');
  const where = spec.where ?? [];
  if (!types && since === undefined && until === undefined && where.length === 0) return undefined;
  return (record) => {
    if (types) {
      const t = record['type'];
      if (typeof t !== 'string' || !types.has(t)) return false;
    }
    if (since !== undefined || until !== undefined) {
      const ts = record['ts'];
      const at = typeof ts === 'string' ? parseInstant(ts) : undefined;
      if (at === undefined) return false;
      if (since !== undefined && at < since) return false;
      if (until !== undefined && at >= until) return false;
    }
    for (const clause of where) {
      const v = valueAt(record, clause.path);
      if (!sameJson(v, clause.value) && (clause.orString === undefined || v !== clause.orString)) return false;
    }
    return true;
  };
}

/**
 * Parses `field=value` (CLI `--where`). The value is JSON when it parses as JSON (`n=3`,
 * `ok=true`, `who="42"`), else the plain string (`status=done`).
 */
export function parseWhere(text: string): WhereClause {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new StreamError('BAD_FILTER', `--where ${JSON.stringify(text)} is not field=value (e.g. --where status=done or --where agent.id=42)`);
  }
  const path = text.slice(0, eq).split('.');
  if (path.some((p) => p === '')) {
    throw new StreamError('BAD_FILTER', `--where ${JSON.stringify(text)}: the field path has an empty part`);
  }
  const raw = text.slice(eq + 1);
  try {
    const value = JSON.parse(raw) as JsonValue;
    return typeof value === 'string' ? { path, value } : { path, value, orString: raw };
  } catch {
    return { path, value: raw };
  }
}

function toInstant(value: string | number, what: string): number {
  if (typeof value === 'number') return value;
  return requireInstant(value, what);
}

/** The value at a dotted path (`['a','b']`), or undefined when a step is missing or not an object. */
export function valueAt(record: JsonValue | undefined, path: readonly string[]): JsonValue | undefined {
  let v: JsonValue | undefined = record;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as { [key: string]: JsonValue })[key];
  }
  return v;
}

function sameJson(a: JsonValue | undefined, b: JsonValue): boolean {
  if (a === b) return true;
  if (a === undefined || a === null || typeof a !== 'object' || b === null || typeof b !== 'object') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
