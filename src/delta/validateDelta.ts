import { duplicateKeyOf } from './duplicateKeys.js';
import { canonicalJson } from './canonicalJson.js';
import { sha256Hex } from './contentHash.js';
import { isWriterName, RESERVED_NAMES, type Plan, type ShapeRule } from './plan.js';
import type { FieldWrite, ItemAppend, JsonObject, JsonValue, ValidDelta } from './types.js';
import { parseUtcInstant } from './utcInstant.js';

/** Deltas nest at most this many levels (PROTOCOL §1). */
export const MAX_DEPTH = 64;

/**
 * The largest frame a delta may carry: 2^53 − 2 (9007199254740990). Frames are JSON numbers, exact
 * up to 2^53 − 1, and the merger must still be able to name the frame after the last one it closed.
 */
export const MAX_FRAME = Number.MAX_SAFE_INTEGER - 1;
/**
 * The largest counter increment, in size: 2^53. A counter is a sum of increments; bounding each
 * keeps every sum finite (it would take 2^970 of them to overflow), so merge, replay and verify can
 * never disagree over an infinite or NaN total.
 */
export const MAX_COUNTER_STEP = 2 ** 53;
const FRAME_RULE = `bad frame: must be an integer from 0 to ${MAX_FRAME} (2^53 − 2, so the frame after it is still exact)`;

/** Why a delta was refused: the field (a dotted path) and the rule it broke. */
export interface DeltaProblem {
  field: string;
  rule: string;
}

/** The outcome of validating one delta. */
export type DeltaCheck =
  | { ok: true; delta: ValidDelta; raw: JsonObject }
  | { ok: false; problem: DeltaProblem };

/** Formats a problem as the one-line reason `field: rule`. */
export function describeProblem(p: DeltaProblem): string {
  return oneLine(p.field ? `${p.field}: ${p.rule}` : p.rule);
}

/** Escapes control characters (line breaks above all) so a reason stays on one line. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code === 10 ? '\\n' : code === 13 ? '\\r' : code === 9 ? '\\t' : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

class Refusal {
  constructor(readonly problem: DeltaProblem) {}
}
const refuse = (field: string, rule: string): never => {
  throw new Refusal({ field, rule });
};
const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const showValue = (v: unknown): string => {
  const s = v === undefined ? 'nothing' : JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
};
const checkName = (field: string, name: string): void => {
  if (name.length === 0) refuse(field, 'empty name');
  if (RESERVED_NAMES.has(name)) refuse(`${field}.${name}`, 'reserved name (prototype pollution guard)');
};

/** Walks a parsed value: every number finite, no `__proto__` key anywhere, depth ≤ 64. */
function checkValues(v: JsonValue, path: string, depth: number): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) refuse(path, 'non-finite number');
    return;
  }
  if (v === null || typeof v !== 'object') return;
  if (depth > MAX_DEPTH) refuse(path, `nests deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkValues(v[i], path, depth + 1);
    return;
  }
  for (const k of Object.keys(v)) {
    if (k === '__proto__') refuse(path ? `${path}.__proto__` : '__proto__', 'reserved key (prototype pollution guard)');
    checkValues(v[k], path ? `${path}.${k}` : k, depth + 1);
  }
}

/**
 * Finds how deeply a JSON text nests without parsing it, so that a hostile input (a million
 * `[`) is refused before `JSON.parse` sees it.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped char
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

const CORE: Record<string, ShapeRule | 'core'> = {
  frame: 'core', writer: 'core', stream_id: 'core', writer_id: 'core', utc: 'core', seq: 'core', status: 'core',
  items: 'core', counters: 'counters', set: 'core', events: 'events', meta: 'meta', resolves: 'core',
};

/** A conflict identifier (PROTOCOL §2): `m<merge>.<n>`. */
export const CONFLICT_ID = /^m(0|[1-9][0-9]{0,15})\.(0|[1-9][0-9]{0,8})$/;

/** Checks a delta's `resolves`: a non-empty list of distinct conflict ids (PROTOCOL §2a). */
function collectResolves(v: JsonValue, status: string): string[] {
  if (!Array.isArray(v) || v.length === 0) refuse('resolves', `bad resolves: must be a non-empty array of conflict ids like "m530.0" (got ${showValue(v)})`);
  const list = v as JsonValue[];
  for (let i = 0; i < list.length; i++) {
    const id = list[i];
    if (typeof id !== 'string' || !CONFLICT_ID.test(id)) refuse(`resolves[${i}]`, `bad resolves: not a conflict id like "m530.0" (got ${showValue(id)})`);
    if (list.indexOf(id) !== i) refuse(`resolves[${i}]`, `bad resolves: names ${id} twice`);
  }
  if (status === 'fallback') refuse('resolves', 'a fallback delta resolves nothing (it carries no writes)');
  return list as string[];
}

function ruleOf(key: string, plan: Plan): ShapeRule | 'core' | 'items' | 'set' | undefined {
  if (key === 'items') return 'items';
  if (key === 'set') return 'set';
  return Object.prototype.hasOwnProperty.call(CORE, key) ? CORE[key] : Object.prototype.hasOwnProperty.call(plan.shape, key) ? plan.shape[key] : undefined;
}

function collectItems(out: ItemAppend[], field: string, collection: string, arr: JsonValue): void {
  if (!Array.isArray(arr)) refuse(field, 'bad items: must be an array of objects');
  const list = arr as JsonValue[];
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isObj(item)) refuse(`${field}[${i}]`, 'bad items: every item must be a JSON object');
    out.push({ collection, item: item as JsonObject });
  }
}

function collectCounters(out: Array<[string, number]>, field: string, v: JsonValue): void {
  if (!isObj(v)) refuse(field, 'bad counters: must be an object of name → number');
  const obj = v as JsonObject;
  for (const name of Object.keys(obj).sort()) {
    checkName(field, name);
    const n = obj[name];
    if (typeof n !== 'number' || !(Math.abs(n) <= MAX_COUNTER_STEP)) refuse(`${field}.${name}`, `bad counters: must be a finite number from -2^53 to 2^53, so no sum of them can overflow (got ${showValue(n)})`);
    out.push([name, n as number]);
  }
}

function collectEntities(out: FieldWrite[], field: string, type: string, v: JsonValue): void {
  if (!isObj(v)) refuse(field, 'bad set: must be an object of id → field → value');
  const byId = v as JsonObject;
  for (const id of Object.keys(byId).sort()) {
    checkName(field, id);
    const fields = byId[id];
    if (!isObj(fields)) refuse(`${field}.${id}`, 'bad set: an entity must be an object of field → value');
    const f = fields as JsonObject;
    for (const name of Object.keys(f).sort()) {
      checkName(`${field}.${id}`, name);
      out.push({ type, id, field: name, value: f[name] });
    }
  }
}

/**
 * Checks a parsed delta against the protocol (§1) and the store's plan, and normalises it for
 * the merge engine. Operations are gathered in canonical key order, so two copies with the same
 * content hash apply identically whatever their key order on disk.
 */
export function validateDelta(raw: unknown, plan: Plan, sha256?: string): DeltaCheck {
  try {
    if (!isObj(raw)) refuse('', 'delta is not an object');
    const d = raw as JsonObject;
    checkValues(d, '', 1);
    const frame = d.frame;
    if (typeof frame !== 'number' || !Number.isSafeInteger(frame) || frame < 0 || frame > MAX_FRAME) refuse('frame', `${FRAME_RULE} (got ${showValue(frame)})`);
    const names = (['writer', 'stream_id', 'writer_id'] as const).filter((k) => k in d);
    if (names.length === 0) refuse('writer', 'bad writer: missing (also spelt stream_id or writer_id)');
    if (names.length > 1) refuse(names.join('/'), 'bad writer: give one of writer, stream_id, writer_id');
    const writer = d[names[0]];
    if (!isWriterName(writer)) refuse(names[0], `bad writer: must be 1–128 chars of [A-Za-z0-9._-], not . or .. (got ${showValue(writer)})`);
    if (typeof d.utc !== 'string') refuse('utc', `utc is not an RFC 3339 timestamp (got ${showValue(d.utc)})`);
    const utcMs = parseUtcInstant(d.utc as string);
    if (utcMs === undefined) refuse('utc', `utc is not an RFC 3339 timestamp (got ${showValue(d.utc)})`);
    const seq = d.seq === undefined ? 0 : d.seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) refuse('seq', `bad seq: must be an integer ≥ 0 (got ${showValue(seq)})`);
    const status = d.status === undefined ? 'ok' : d.status;
    if (status !== 'ok' && status !== 'fallback') refuse('status', `bad status: must be "ok" or "fallback" (got ${showValue(status)})`);

    const items: ItemAppend[] = [];
    const counters: Array<[string, number]> = [];
    const writes: FieldWrite[] = [];
    const events: JsonObject[] = [];
    const resolves = d.resolves === undefined ? undefined : collectResolves(d.resolves, status as string);
    for (const key of Object.keys(d).sort()) {
      const rule = ruleOf(key, plan);
      if (rule === undefined) refuse(key, `unknown key ${key} (map it in the plan's shape to merge it)`);
      if (rule === 'core' || rule === 'meta') continue;
      if (status === 'fallback') refuse(key, 'fallback delta carries operations');
      const v = d[key];
      if (rule === 'items') {
        if (!isObj(v)) refuse(key, 'bad items: must be an object of collection → array of objects');
        const byCollection = v as JsonObject;
        for (const c of Object.keys(byCollection).sort()) {
          checkName(key, c);
          collectItems(items, `${key}.${c}`, c, byCollection[c]);
        }
      } else if (rule === 'set') {
        if (!isObj(v)) refuse(key, 'bad set: must be an object of type → id → field → value');
        const byType = v as JsonObject;
        for (const t of Object.keys(byType).sort()) {
          checkName(key, t);
          collectEntities(writes, `${key}.${t}`, t, byType[t]);
        }
      } else if (rule === 'counters') collectCounters(counters, key, v);
      else if (rule === 'events') {
        if (!Array.isArray(v)) refuse(key, 'bad events: must be an array of objects');
        (v as JsonValue[]).forEach((e, i) => {
          if (!isObj(e)) refuse(`${key}[${i}]`, 'bad events: every event must be a JSON object');
          events.push(e as JsonObject);
        });
      } else if (typeof rule === 'object' && 'items' in rule) collectItems(items, key, rule.items, v);
      else if (typeof rule === 'object' && 'set' in rule) collectEntities(writes, key, rule.set, v);
    }
    const delta: ValidDelta = {
      frame: frame as number, writer: writer as string, seq: seq as number, utc: d.utc as string, utcMs: utcMs as number,
      status: status as 'ok' | 'fallback', sha256: sha256 ?? sha256Hex(canonicalJson(d)), items, counters, writes, events,
      ...(resolves ? { resolves } : {}),
    };
    return { ok: true, delta, raw: d };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, problem: e.problem };
    throw e;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses and validates one delta from the bytes a writer dropped: size limit, strict UTF-8,
 * nesting depth, JSON syntax, then {@link validateDelta}. Never throws for bad input.
 */
export function parseDelta(bytes: Uint8Array, plan: Plan): DeltaCheck {
  if (bytes.length > plan.maxDeltaBytes) {
    return { ok: false, problem: { field: '', rule: `delta is ${bytes.length} bytes, over maxDeltaBytes (${plan.maxDeltaBytes})` } };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, problem: { field: '', rule: 'not valid UTF-8' } };
  }
  if (jsonDepthExceeds(text, MAX_DEPTH)) return { ok: false, problem: { field: '', rule: `nests deeper than ${MAX_DEPTH} levels` } };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: { field: '', rule: `not JSON: ${(e as Error).message}` } };
  }
  // A name repeated in an object (JSON.parse keeps the last in silence, so `{"frame":1,"frame":7}`
  // would be frame 7) is refused, as I-JSON (RFC 7493 §2.3) does.
  const key = duplicateKeyOf(text, raw);
  if (key !== undefined) return { ok: false, problem: { field: key, rule: 'duplicate key: a name appears twice in one object (I-JSON, RFC 7493)' } };
  const check = validateDelta(raw, plan);
  if (!check.ok && check.problem.field === 'frame' && check.problem.rule.startsWith(FRAME_RULE)) {
    // JSON.parse rounds a frame past 2^53: name the number as written.
    const written = /"frame"\s*:\s*(-?[0-9][0-9.eE+-]*)/.exec(text)?.[1];
    if (written !== undefined) return { ok: false, problem: { ...check.problem, rule: `${FRAME_RULE} (got ${written})` } };
  }
  return check;
}
