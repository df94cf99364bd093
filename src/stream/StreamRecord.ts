import type { JsonValue } from '../delta/types.js';

export type { JsonValue };

/** One stream record as read back: a JSON object (with `ts` when written by framelog). */
export type StreamRecord = { [key: string]: JsonValue };

/**
 * What `append` accepts: a plain object whose values JSON can carry (a `Date` or anything with
 * `toJSON` serialises as JSON does). `ts`, when present, must be an RFC 3339 string.
 */
export type StreamRecordInput = { readonly [key: string]: unknown };
