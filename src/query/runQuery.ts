import { compileRecordFilter, readStream, streamExists, StreamError, type JsonValue, type StreamRecord } from '../stream/index.js';
import { testCondition, valueAt, type Condition } from './condition.js';

/** `--join STREAM:key` (or `STREAM:baseKey=joinKey`): rows of the base stream meet STREAM's records with the same key. */
export interface JoinSpec {
  readonly stream: string;
  /** Dotted path in the base record. */
  readonly baseKey: readonly string[];
  /** Dotted path in the joined record. */
  readonly joinKey: readonly string[];
}

/** A query over one stream, joined with others (see docs/query.md for the CLI syntax). */
export interface QuerySpec {
  readonly from: string;
  readonly types?: readonly string[];
  readonly since?: string | number;
  readonly until?: string | number;
  /** All must hold; a path starting with a joined stream's name looks into that stream's record. */
  readonly where?: readonly Condition[];
  readonly joins?: readonly JoinSpec[];
  /** Dotted paths to keep (output keys are the paths as written); default the whole row. */
  readonly select?: readonly string[];
  /** Drop repeated output rows. */
  readonly distinct?: boolean;
  readonly limit?: number;
}

/** Reads a stream's records in order; compaction swaps in a reader that sees through archive segments. */
export type RecordSource = (storeDir: string, stream: string) => AsyncIterable<StreamRecord>;

/** Through compacted segments and the live file, upcast to the plan's schema version. */
export const liveRecords: RecordSource = async function* (storeDir, stream) {
  if (!streamExists(storeDir, stream)) throw new StreamError('NOT_FOUND', `no stream "${stream}" in ${storeDir} (no file streams/${stream}.ndjson): check the name and --dir`);
  for await (const r of readStream(storeDir, stream)) yield r.record;
};

/** Parses `STREAM:key` or `STREAM:baseKey=joinKey`. */
export function parseJoin(text: string): JoinSpec {
  const m = /^([A-Za-z0-9._-]{1,128}):([^=]+)(?:=(.+))?$/.exec(text);
  if (!m) throw new StreamError('BAD_FILTER', `--join ${JSON.stringify(text)} is not STREAM:key or STREAM:baseKey=joinKey (e.g. --join receipts:dispatch_id)`);
  const baseKey = m[2]!.split('.');
  return { stream: m[1]!, baseKey, joinKey: m[3] ? m[3].split('.') : baseKey };
}

/**
 * Runs a query: scans the base stream with its filters, then for each join an inner join on the
 * key (one output row per combination, the joined record under the stream's name), then the
 * conditions on joined fields, then `select`. Joined streams are read once into a key index;
 * their conditions are applied before indexing.
 */
export async function* runQuery(storeDir: string, spec: QuerySpec, source: RecordSource = liveRecords): AsyncGenerator<StreamRecord> {
  const joins = spec.joins ?? [];
  const joinNames = new Set(joins.map((j) => j.stream));
  if (joinNames.has(spec.from) || joinNames.size !== joins.length) {
    throw new StreamError('BAD_FILTER', `--join: each joined stream may appear once and not be the base stream ${JSON.stringify(spec.from)}`);
  }
  if (spec.limit === 0) return; // no rows asked for (the loop below stops after a row)
  const where = spec.where ?? [];
  const baseWhere = where.filter((c) => !joinNames.has(c.path[0]!));
  for (const c of baseWhere) {
    const head = c.path[0]!;
    if (c.path.length > 1 && head !== spec.from && streamExists(storeDir, head)) {
      throw new StreamError('BAD_FILTER', `--where ${c.path.join('.')}: ${head} is a stream that is not in this query (add --join ${head}:KEY to test its records)`);
    }
  }
  const baseFilter = compileRecordFilter({
    ...(spec.types ? { types: spec.types } : {}),
    ...(spec.since !== undefined ? { since: spec.since } : {}),
    ...(spec.until !== undefined ? { until: spec.until } : {}),
  });
  const indexes: Array<{ join: JoinSpec; byKey: Map<string, StreamRecord[]> }> = [];
  for (const join of joins) {
    const conds = where.filter((c) => c.path[0] === join.stream);
    const byKey = new Map<string, StreamRecord[]>();
    for await (const rec of source(storeDir, join.stream)) {
      if (!conds.every((c) => testCondition(rec, c, c.path.slice(1)))) continue;
      const key = keyOf(valueAt(rec, join.joinKey));
      if (key === undefined) continue;
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      list.push(rec);
    }
    indexes.push({ join, byKey });
  }
  const seen = spec.distinct ? new Set<string>() : undefined;
  let emitted = 0;
  for await (const rec of source(storeDir, spec.from)) {
    if (baseFilter && !baseFilter(rec)) continue;
    if (!baseWhere.every((c) => testCondition(rec, c))) continue;
    for (const row of combine(rec, indexes, 0)) {
      const outRow = spec.select ? project(row, spec.select) : row;
      if (seen) {
        const text = JSON.stringify(outRow);
        if (seen.has(text)) continue;
        seen.add(text);
      }
      yield outRow;
      if (spec.limit !== undefined && ++emitted >= spec.limit) return;
    }
  }
}

function* combine(row: StreamRecord, indexes: ReadonlyArray<{ join: JoinSpec; byKey: Map<string, StreamRecord[]> }>, i: number): Generator<StreamRecord> {
  if (i === indexes.length) {
    yield row;
    return;
  }
  const { join, byKey } = indexes[i]!;
  const key = keyOf(valueAt(row, join.baseKey));
  const matches = key === undefined ? undefined : byKey.get(key);
  if (!matches) return;
  for (const m of matches) yield* combine({ ...row, [join.stream]: m }, indexes, i + 1);
}

function keyOf(v: JsonValue | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function project(row: StreamRecord, select: readonly string[]): StreamRecord {
  const out: StreamRecord = {};
  for (const p of select) {
    const v = valueAt(row, p.split('.'));
    if (v !== undefined) out[p] = v;
  }
  return out;
}
