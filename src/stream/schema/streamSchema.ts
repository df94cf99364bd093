import { readTextIfExists } from '../../durable/index.js';
import path from 'node:path';
import { parsePlan } from '../../delta/plan.js';
import { StreamError } from '../StreamError.js';
import type { JsonValue, StreamRecord, StreamRecordInput } from '../StreamRecord.js';
import { validateSchema, type JsonSchema } from './validateSchema.js';

/** Turns a record of version `from` into version `from + 1`. */
export type Upcaster = (record: StreamRecord) => StreamRecord;

/**
 * A stream's settings from `framelog.json` `streams.NAME`:
 * `{ "version": 2, "versionField": "v", "schema": {…}, "upcast": { "1": { "defaults": {…}, "rename": {…} } }, "chain": true }`.
 */
export interface StreamSchema {
  readonly stream: string;
  /** The version this reader and writer know (records without one are version 1). */
  readonly version: number;
  readonly versionField: string;
  readonly schema?: JsonSchema;
  /** Upcaster from version N (key) to N + 1. */
  readonly upcasters: ReadonlyMap<number, Upcaster>;
  readonly chain: boolean;
  /** Write the version field on append (when the plan sets `version`). */
  readonly stamp: boolean;
}

/** Reads `streams.NAME` from the store's plan; undefined when there is no plan or no settings. */
export function loadStreamSchema(storeDir: string, stream: string, extra: ReadonlyMap<number, Upcaster> = new Map()): StreamSchema | undefined {
  const file = path.join(storeDir, 'framelog.json');
  const raw = readTextIfExists(file);
  if (raw === undefined) return undefined;
  const settings = parsePlan(JSON.parse(raw), file).streams?.[stream];
  return settings ? streamSchemaFrom(stream, settings as Record<string, JsonValue>, extra) : undefined;
}

/** Builds a {@link StreamSchema} from settings (the plan's `streams.NAME`) plus code upcasters. */
export function streamSchemaFrom(stream: string, settings: Record<string, JsonValue>, extra: ReadonlyMap<number, Upcaster> = new Map()): StreamSchema {
  const bad = (field: string, rule: string): never => {
    throw new StreamError('BAD_RECORD', `framelog.json: streams.${stream}.${field}: ${rule}`);
  };
  const version = settings['version'] ?? 1;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) bad('version', 'must be a whole number ≥ 1');
  const versionField = settings['versionField'] ?? 'v';
  if (typeof versionField !== 'string' || versionField === '') bad('versionField', 'must be a field name');
  const schema = settings['schema'];
  if (schema !== undefined && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) bad('schema', 'must be a JSON Schema object');
  const upcasters = new Map<number, Upcaster>();
  const upcast = (settings['upcast'] ?? {}) as Record<string, JsonValue>;
  for (const [from, rule] of Object.entries(upcast)) {
    if (!/^\d+$/.test(from)) bad(`upcast.${from}`, 'keys are the version upcast from (1, 2, …)');
    const r = rule as { defaults?: Record<string, JsonValue>; rename?: Record<string, string> };
    upcasters.set(Number(from), (rec) => {
      const out: StreamRecord = { ...rec };
      for (const [a, b] of Object.entries(r.rename ?? {})) {
        if (Object.hasOwn(out, a)) {
          out[b] = out[a]!;
          delete out[a];
        }
      }
      for (const [k, v] of Object.entries(r.defaults ?? {})) if (!Object.hasOwn(out, k)) out[k] = structuredClone(v);
      return out;
    });
  }
  for (const [from, f] of extra) upcasters.set(from, f);
  return { stream, version: version as number, versionField: versionField as string, ...(schema ? { schema: schema as JsonSchema } : {}), upcasters, chain: settings['chain'] === true, stamp: settings['version'] !== undefined };
}

/** The version a record carries (1 when absent). */
export function recordVersion(s: StreamSchema, record: StreamRecord | StreamRecordInput, where: string): number {
  const v = record[s.versionField] ?? 1;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new StreamError('BAD_RECORD', `${where}: field "${s.versionField}" (the schema version) must be a whole number ≥ 1, not ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Reads a record as the current version: older ones go through each upcaster in turn (defaults
 * for new fields), the version field is set; a newer one is refused, never misread.
 */
export function upcastRecord(s: StreamSchema, record: StreamRecord, where: string): StreamRecord {
  let v = recordVersion(s, record, where);
  if (v > s.version) {
    throw new StreamError('SCHEMA_VERSION', `${where}: record of stream "${s.stream}" has ${s.versionField} ${v}, newer than version ${s.version} this reader knows: upgrade the reader (framelog.json streams.${s.stream}.version and its upcasters) before reading it`);
  }
  if (!s.stamp && v === s.version) return record; // the plan declares no versions: read as stored
  let out = record;
  while (v < s.version) {
    const up = s.upcasters.get(v);
    if (up) out = up(out);
    v++;
  }
  return out === record && record[s.versionField] === v ? record : { ...out, [s.versionField]: v };
}

/**
 * Checks records before an append: stamps the current version on records without one, refuses a
 * version newer than known, upcasts older ones for the check and validates against the schema.
 * Returns the records to write (as given, plus the version field). Throws naming the field.
 */
export function checkRecordsForAppend(s: StreamSchema, records: readonly StreamRecordInput[]): StreamRecordInput[] {
  return records.map((rec, i) => {
    const where = `record ${i + 1} for stream "${s.stream}"`;
    if (s.chain && Object.hasOwn(rec, 'chain')) throw new StreamError('SCHEMA', `${where}: field "chain" is written by framelog on a hash-chained stream (framelog.json streams.${s.stream}.chain): leave it out`);
    const stamped = !s.stamp || Object.hasOwn(rec, s.versionField) ? rec : { ...rec, [s.versionField]: s.version };
    const plain = JSON.parse(JSON.stringify(stamped)) as StreamRecord;
    const current = upcastRecord(s, plain, where);
    if (s.schema) {
      const problem = validateSchema(current, s.schema);
      if (problem) throw new StreamError('SCHEMA', `${where} breaks the schema in framelog.json streams.${s.stream}.schema: ${problem}`);
    }
    return stamped;
  });
}
