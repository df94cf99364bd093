import { isWriterName } from '../delta/plan.js';
import { isStreamName } from '../stream/streamName.js';
import { ApiError } from './ApiError.js';

/** A query string as Fastify parses it: a repeated key gives an array. */
export type Query = Record<string, string | string[] | undefined>;

const show = (v: string): string => JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v);

/** The single value of `key`, refusing a repeated one. */
export function one(q: Query, key: string): string | undefined {
  const v = q[key];
  if (Array.isArray(v)) throw new ApiError(400, 'bad-parameter', `${key}: given ${v.length} times; give it once`);
  return v;
}

/** All values of `key`. */
export function many(q: Query, key: string): string[] {
  const v = q[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** A whole number ≥ 0 (a frame, a record index, a byte cursor), or a 400 naming the parameter. */
export function wholeNumber(text: string, what: string, code = 'bad-parameter'): number {
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new ApiError(400, code, `${what}: not a whole number: ${show(text)} (want an integer ≥ 0, like 12)`);
  }
  return Number(text);
}

/** A frame: an integer ≥ 0. */
export const frameParam = (text: string, what: string): number => wholeNumber(text, what, 'bad-frame');

/** A frame or an inclusive range `a..b` (either end may be left open). */
export function frameRange(text: string | undefined, what: string): number | { from?: number; to?: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d*)\.\.(\d*)$/.exec(text);
  if (!m) return frameParam(text, what);
  const from = m[1] ? frameParam(m[1], what) : undefined;
  const to = m[2] ? frameParam(m[2], what) : undefined;
  if (from !== undefined && to !== undefined && from > to) throw new ApiError(400, 'bad-frame', `${what}: range ${show(text)} is empty (start after end)`);
  return { from, to };
}

/** `limit`: 1 to `max` (default `def`). */
export function limitParam(q: Query, def = 100, max = 1000): number {
  const v = one(q, 'limit');
  if (v === undefined) return def;
  const n = wholeNumber(v, 'limit');
  if (n < 1 || n > max) throw new ApiError(400, 'bad-parameter', `limit: ${n} is out of range (1 to ${max})`);
  return n;
}

/** A stream name from the path: no `..`, no slash, no NUL, nothing outside `[A-Za-z0-9._-]`. */
export function streamNameParam(name: string): string {
  if (!isStreamName(name)) {
    throw new ApiError(400, 'bad-name', `stream name ${show(name)} is not allowed: use 1–128 characters of A-Z a-z 0-9 . _ - (not "." or "..")`);
  }
  return name;
}

/** A writer id (a filter value): the protocol's writer-name rule. */
export function writerParam(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!isWriterName(text)) throw new ApiError(400, 'bad-name', `writer ${show(text)} is not a writer name: use 1–128 characters of A-Z a-z 0-9 . _ - (not "." or "..")`);
  return text;
}

/** A free-text filter value (type, id, field): at most 256 characters, no control characters. */
export function textParam(q: Query, key: string): string | undefined {
  const v = one(q, key);
  // eslint-disable-next-line no-control-regex
  if (v !== undefined && (v.length > 256 || /[\u0000-\u001f\u007f]/.test(v))) {
    throw new ApiError(400, 'bad-parameter', `${key}: at most 256 characters, without control characters`);
  }
  return v;
}

/** Refuses query keys the endpoint does not know, so a typo is not silently ignored. */
export function onlyKeys(q: Query, allowed: readonly string[]): void {
  for (const k of Object.keys(q)) {
    if (!allowed.includes(k)) throw new ApiError(400, 'bad-parameter', `unknown parameter ${show(k)} (this endpoint takes: ${allowed.join(', ') || 'none'})`);
  }
}
