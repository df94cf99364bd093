import { FramelogError } from '../errors.js';
import type { JsonObject, JsonValue } from './types.js';

/**
 * How one field's winner is chosen at merge time (PROTOCOL §2a). Each is a total order on writes,
 * so every policy converges: `lww` the later stamp (the default), `first` the earlier, `max` /
 * `min` the greatest / least value (numbers below strings below anything else, which compares by
 * canonical JSON; equal values: the later stamp), `priority` the writer listed first (a trailing
 * `*` matches a prefix; unlisted writers last; equal rank: the later stamp), and `union` keeps
 * every element of every array written (no write loses).
 */
export type FieldPolicy = 'lww' | 'first' | 'max' | 'min' | 'union' | { priority: string[] };

/** Entity type → field (or `"*"`: every other field of the type) → policy. */
export type PolicyMap = Record<string, Record<string, FieldPolicy>>;

/** The policy names a plan may give (besides `{"priority": [...]}`). */
export const POLICY_NAMES: readonly string[] = ['lww', 'first', 'max', 'min', 'union'];

/** Where a plan maps a top-level delta key (PROTOCOL §6). */
export type ShapeRule = 'counters' | 'events' | 'meta' | { items: string } | { set: string };

/** The plan, `framelog.json` (PROTOCOL §6). Every field has a default. */
export interface Plan {
  version: 1;
  /** Natural key per item collection: a field name or a list of them (default `id`). */
  keys: Record<string, string | string[]>;
  /** Maps extra top-level keys of incoming deltas to a rule. */
  shape: Record<string, ShapeRule>;
  /** Writers expected every frame (watch mode closes a frame once all have reported). */
  writers: string[];
  /**
   * Readiness by count, for writers too many (or too changing) to list: watch mode closes a frame
   * once `count` distinct writers (matching `match`, a name or a prefix ending in `*`, when given)
   * have a delta for it, besides every writer of `writers`; the timeout still closes it. The merge
   * record's `missing` lists only `writers` (a count has no names).
   */
  quorum?: { count: number; match?: string };
  /** Watch mode closes a frame this long after its first delta arrived, whoever is missing. */
  frameTimeoutMs: number;
  /**
   * Upper bound on the merges between checkpoints (snapshot + `state_sha256`). Unset (the
   * default), checkpoints follow the bytes merged: one when the deltas applied since the last
   * reach the size of the state then (PROTOCOL v1.1 §3). v1 stores wrote `1`, which costs the
   * whole state per merge.
   */
  snapshotEvery?: number;
  /** A delta whose `utc` is further than this in the merger's future is listed as skewed. */
  maxSkewMs: number;
  /** Largest delta accepted, in bytes as received. */
  maxDeltaBytes: number;
  /**
   * How writers and the merger reach each other (default: this folder's inbox): the transport's
   * name (`fs`, `git`, `postgres`, `redis`, `nats`), its URL (never with a password: this file is
   * shared, and the git transport commits it) and, for the engines, the store's name there.
   * Flags and `FRAMELOG_TRANSPORT` / `FRAMELOG_URL` / `FRAMELOG_STORE` take precedence. It says how
   * deltas travel, not what they mean: it stays out of the plan's hash.
   */
  transport?: { kind: string; url?: string; store?: string; replicas?: number; requireDurable?: boolean };
  /**
   * Field policies (PROTOCOL §2a): entity type → field (or `"*"` for the type's other fields) →
   * policy. Fields without one take `lww`.
   */
  policies?: PolicyMap;
  /** Per-stream settings (schema, version, hash chain…), read by the stream and view modules. */
  streams?: Record<string, JsonObject>;
}

/** The plan `init` writes. */
export const DEFAULT_PLAN: Readonly<Plan> = Object.freeze({
  version: 1,
  keys: {},
  shape: {},
  writers: [],
  frameTimeoutMs: 30_000,
  maxSkewMs: 300_000,
  maxDeltaBytes: 1_048_576,
});

/** Plan fields with no default: absent unless given. */
const OPTIONAL_FIELDS = new Set(['$schema', 'transport', 'streams', 'snapshotEvery', 'policies', 'quorum']);

/** The largest `maxDeltaBytes` a plan may set (64 MiB). */
export const MAX_DELTA_BYTES_CEILING = 67_108_864;

/** Names that never become keys of state maps (prototype pollution). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Writer names: 1–128 chars of `[A-Za-z0-9._-]`, not `.` or `..`. */
export const WRITER_NAME = /^[A-Za-z0-9._-]{1,128}$/;
const CORE_KEYS = new Set(['frame', 'writer', 'stream_id', 'writer_id', 'utc', 'seq', 'status', 'items', 'counters', 'set', 'events', 'meta', 'resolves']);
/** A writer pattern of a `priority` policy: a writer name, or a prefix of one followed by `*`. */
const WRITER_PATTERN = /^[A-Za-z0-9._-]{0,128}\*?$/;

/** True when writer `name` matches `pattern`: the name itself, or a prefix followed by `*`. */
export function matchesWriterPattern(name: string, pattern: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/** True when `name` is a valid writer name. */
export function isWriterName(name: unknown): name is string {
  return typeof name === 'string' && WRITER_NAME.test(name) && name !== '.' && name !== '..';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && !RESERVED_NAMES.has(v);

/**
 * Validates a parsed `framelog.json` and fills in defaults. Throws a {@link FramelogError} naming
 * the file, the field and the rule.
 */
/** True when `url` carries a password (`scheme://user:password@host…`). */
export function urlHasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false; // a path or an scp-style git remote (user@host:repo) carries none
  }
}

export function parsePlan(raw: JsonValue | unknown, file = 'framelog.json'): Plan {
  const fail = (field: string, rule: string): never => {
    throw new FramelogError(`${file}: ${field}: ${rule}`, 'bad-plan');
  };
  if (!isObj(raw)) fail('(root)', 'the plan must be a JSON object');
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!(k in DEFAULT_PLAN) && !OPTIONAL_FIELDS.has(k)) fail(k, 'unknown plan field');
  }
  const plan: Plan = { ...DEFAULT_PLAN, keys: {}, shape: {}, writers: [] };
  if (r.version !== undefined && r.version !== 1) fail('version', 'must be 1');
  if (r.keys !== undefined) {
    if (!isObj(r.keys)) fail('keys', 'must be an object: collection → field name or list of field names');
    for (const [c, k] of Object.entries(r.keys as Record<string, unknown>)) {
      if (!isName(c)) fail(`keys.${c}`, 'collection name is reserved or empty');
      if (typeof k === 'string' && k.length > 0) plan.keys[c] = k;
      else if (Array.isArray(k) && k.length > 0 && k.every((f) => typeof f === 'string' && f.length > 0)) plan.keys[c] = k as string[];
      else fail(`keys.${c}`, 'must be a field name or a non-empty list of field names');
    }
  }
  if (r.shape !== undefined) {
    if (!isObj(r.shape)) fail('shape', 'must be an object: delta key → rule');
    for (const [k, rule] of Object.entries(r.shape as Record<string, unknown>)) {
      if (CORE_KEYS.has(k)) fail(`shape.${k}`, 'cannot remap a protocol key');
      if (RESERVED_NAMES.has(k)) fail(`shape.${k}`, 'reserved name');
      if (rule === 'counters' || rule === 'events' || rule === 'meta') plan.shape[k] = rule;
      else if (isObj(rule) && Object.keys(rule).length === 1 && isName(rule.items)) plan.shape[k] = { items: rule.items };
      else if (isObj(rule) && Object.keys(rule).length === 1 && isName(rule.set)) plan.shape[k] = { set: rule.set };
      else fail(`shape.${k}`, 'must be "counters", "events", "meta", {"items": COLLECTION} or {"set": TYPE}');
    }
  }
  if (r.writers !== undefined) {
    if (!Array.isArray(r.writers) || !r.writers.every(isWriterName)) fail('writers', 'must be a list of writer names ([A-Za-z0-9._-]{1,128})');
    const dup = (r.writers as string[]).find((w, i, all) => all.indexOf(w) !== i);
    if (dup !== undefined) fail('writers', `lists ${dup} twice`);
    plan.writers = [...(r.writers as string[])];
  }
  if (r.quorum !== undefined) {
    const q = r.quorum as Record<string, unknown>;
    const shape = 'must be {"count": N} or {"count": N, "match": "agent-*"}';
    if (!isObj(q) || Object.keys(q).some((k) => k !== 'count' && k !== 'match')) fail('quorum', shape);
    if (!Number.isSafeInteger(q.count) || (q.count as number) < 1 || (q.count as number) > 1_000_000) fail('quorum.count', 'must be a whole number from 1 to 1,000,000');
    if (q.match !== undefined && (typeof q.match !== 'string' || q.match === '' || !WRITER_PATTERN.test(q.match))) fail('quorum.match', 'must be a writer name or a prefix ending in * (e.g. "agent-*")');
    plan.quorum = { count: q.count as number, ...(q.match !== undefined ? { match: q.match as string } : {}) };
  }
  if (r.transport !== undefined) {
    const t = r.transport as Record<string, unknown>;
    if (!isObj(t) || typeof t.kind !== 'string' || !/^[a-z][a-z0-9-]*$/.test(t.kind)) fail('transport', 'must be {"kind": "fs"|"git"|"postgres"|"redis"|"nats"|"kafka", "url"?: "…", "store"?: "…", "replicas"?: N}');
    if (t.url !== undefined && typeof t.url !== 'string') fail('transport.url', 'must be a string');
    if (typeof t.url === 'string' && urlHasPassword(t.url)) fail('transport.url', 'holds a password: this file is shared (the git transport commits it); give the password through FRAMELOG_URL or the engine\'s own configuration (~/.pgpass, …)');
    if (t.store !== undefined && (typeof t.store !== 'string' || !/^[A-Za-z0-9_-]{1,48}$/.test(t.store))) fail('transport.store', 'must be 1 to 48 letters, digits, _ or -');
    if (t.replicas !== undefined) {
      if (t.kind !== 'nats' && t.kind !== 'kafka') fail('transport.replicas', `applies to nats and kafka only (not ${t.kind})`);
      if (!Number.isSafeInteger(t.replicas) || (t.replicas as number) < 1 || (t.replicas as number) > 5) fail('transport.replicas', 'must be a whole number from 1 to 5');
    }
    if (t.requireDurable !== undefined && typeof t.requireDurable !== 'boolean') fail('transport.requireDurable', 'must be true or false');
    if (Object.keys(t).some((k) => !['kind', 'url', 'store', 'replicas', 'requireDurable'].includes(k))) fail('transport', 'takes only kind, url, store, replicas and requireDurable');
    plan.transport = {
      kind: t.kind as string, ...(t.url !== undefined ? { url: t.url as string } : {}), ...(t.store !== undefined ? { store: t.store as string } : {}),
      ...(t.replicas !== undefined ? { replicas: t.replicas as number } : {}), ...(t.requireDurable === true ? { requireDurable: true } : {}),
    };
  }
  if (r.streams !== undefined) {
    if (!isObj(r.streams)) fail('streams', 'must be an object: stream name → settings');
    for (const [name, v] of Object.entries(r.streams as Record<string, unknown>)) {
      if (!isWriterName(name)) fail(`streams.${name}`, 'not a stream name ([A-Za-z0-9._-]{1,128})');
      if (!isObj(v)) fail(`streams.${name}`, 'must be an object of settings');
    }
    plan.streams = r.streams as Record<string, JsonObject>;
  }
  if (r.policies !== undefined) plan.policies = parsePolicies(r.policies, fail);
  const limits = [['frameTimeoutMs', 0, Number.MAX_SAFE_INTEGER], ['snapshotEvery', 1, Number.MAX_SAFE_INTEGER], ['maxSkewMs', 0, Number.MAX_SAFE_INTEGER], ['maxDeltaBytes', 1, MAX_DELTA_BYTES_CEILING]] as const;
  for (const [k, min, max] of limits) {
    if (r[k] === undefined) continue;
    if (!isNonNegInt(r[k]) || (r[k] as number) < min || (r[k] as number) > max) fail(k, `must be an integer from ${min} to ${max}`);
    plan[k] = r[k] as number;
  }
  return plan;
}

/** Validates the plan's `policies`: type → field → policy name or `{"priority": [patterns]}`. */
function parsePolicies(raw: unknown, fail: (field: string, rule: string) => never): PolicyMap {
  if (!isObj(raw)) fail('policies', 'must be an object: entity type → field → policy');
  const out: PolicyMap = {};
  for (const [type, fields] of Object.entries(raw as Record<string, unknown>)) {
    if (!isName(type)) fail(`policies.${type}`, 'entity type is reserved or empty');
    if (!isObj(fields)) fail(`policies.${type}`, 'must be an object: field (or "*") → policy');
    const byField: Record<string, FieldPolicy> = {};
    for (const [field, p] of Object.entries(fields as Record<string, unknown>)) {
      const where = `policies.${type}.${field}`;
      if (!isName(field)) fail(where, 'field name is reserved or empty');
      if (typeof p === 'string') {
        if (!POLICY_NAMES.includes(p)) fail(where, `unknown policy ${JSON.stringify(p)} (one of ${POLICY_NAMES.join(', ')}, or {"priority": ["writer", "prefix*"]})`);
        byField[field] = p as FieldPolicy;
      } else if (isObj(p) && Object.keys(p).length === 1 && 'priority' in p) {
        const list = p.priority;
        if (!Array.isArray(list) || list.length === 0 || !list.every((w) => typeof w === 'string' && w.length > 0 && WRITER_PATTERN.test(w) && w !== '*')) {
          fail(`${where}.priority`, 'must be a non-empty list of writer names or prefixes ending in * (e.g. ["supervisor", "worker-*"])');
        }
        const dup = (list as string[]).find((w, i, all) => all.indexOf(w) !== i);
        if (dup !== undefined) fail(`${where}.priority`, `lists ${dup} twice`);
        byField[field] = { priority: [...(list as string[])] };
      } else fail(where, `unknown policy ${JSON.stringify(p)} (one of ${POLICY_NAMES.join(', ')}, or {"priority": ["writer", "prefix*"]})`);
    }
    out[type] = byField;
  }
  return out;
}
