/** Any JSON value as parsed from a delta. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** `ok` (the default) or `fallback`: the writer ran but had nothing to contribute. */
export type DeltaStatus = 'ok' | 'fallback';

/** The identity of a delta: `(frame, writer, seq)` — never a timestamp (PROTOCOL §1). */
export interface DeltaIdentity {
  frame: number;
  writer: string;
  seq: number;
}

/** A delta identity with its content hash, as merge records list it. */
export interface DeltaRef extends DeltaIdentity {
  sha256: string;
}

/**
 * A delta as a writer builds it (PROTOCOL §1). Stores keep the bytes as received; this type is
 * the protocol's own spelling (no aliases, no plan-mapped keys).
 */
export interface Delta {
  frame: number;
  writer: string;
  utc: string;
  seq?: number;
  status?: DeltaStatus;
  items?: Record<string, JsonObject[]>;
  counters?: Record<string, number>;
  set?: Record<string, Record<string, Record<string, JsonValue>>>;
  events?: JsonObject[];
  meta?: JsonValue;
  /** Conflict ids (`m<merge>.<n>`) this delta resolves; its writes then outrank every field policy (PROTOCOL §2a). */
  resolves?: string[];
}

/** One field write of a delta: `(type, id, field) = value`. */
export interface FieldWrite {
  type: string;
  id: string;
  field: string;
  value: JsonValue;
}

/** One item of a delta, with the collection it appends to. */
export interface ItemAppend {
  collection: string;
  item: JsonObject;
}

/**
 * A delta that passed validation, normalised for the merge engine: aliases resolved, plan-mapped
 * keys folded into the protocol's rules, in a canonical order so that two copies with the same
 * content hash always apply identically.
 */
export interface ValidDelta {
  frame: number;
  writer: string;
  seq: number;
  /** The `utc` string as received. */
  utc: string;
  /** `utc` as epoch milliseconds: merge order compares instants, never strings. */
  utcMs: number;
  status: DeltaStatus;
  /** SHA-256 (hex) of the canonical JSON of the delta as received. */
  sha256: string;
  items: ItemAppend[];
  counters: Array<[name: string, value: number]>;
  writes: FieldWrite[];
  events: JsonObject[];
  /** The conflict ids this delta resolves (PROTOCOL §2a); absent for an ordinary delta. */
  resolves?: string[];
}
