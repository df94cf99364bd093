import type { JsonObject, JsonValue } from '../delta/types.js';
import type { Stamp } from '../delta/stamp.js';

/** An item held in state, with the stamp that placed it. */
export interface ItemEntry {
  key: string;
  item: JsonObject;
  stamp: Stamp;
  /** Canonical JSON of `item`, computed the first time a comparison needs it. */
  canon?: string;
  /** Set when a resolution wrote this item (PROTOCOL §2a): it outranks every ordinary item of its key. */
  res?: true;
  /**
   * The stamp that orders the item in its collection, when it is not `stamp`: a resolution's item
   * keeps the place of the earliest item of its key.
   */
  at?: Stamp;
}

/** One element of a `union` field: the stamp and position of the write that first gave it. */
export interface UnionElement {
  canon: string;
  value: JsonValue;
  stamp: Stamp;
  idx: number;
}

/** One item collection: lookup by natural key, and the array order (by stamp). */
export interface Collection {
  byKey: Map<string, ItemEntry>;
  /** Entries sorted by stamp: the collection's array order. */
  order: ItemEntry[];
}

/** A field value held in state, with the stamp of the write that set it. */
export interface FieldEntry {
  value: JsonValue;
  stamp: Stamp;
  /** Canonical JSON of `value`, computed the first time it is needed. */
  canon?: string;
  /** Set when a resolution wrote the value (PROTOCOL §2a): it outranks every ordinary write. */
  res?: true;
  /** For a `union` field: its elements, in order (`value` is their values). */
  union?: UnionElement[];
}

/**
 * The merge engine's working state: the canonical state plus the stamps it needs to decide
 * later merges. `applied` (identity → content hash) is the redelivery index; it is rebuilt from
 * the merge journal and is not part of snapshots.
 */
export interface MergeState {
  /** The last closed frame, or null before the first merge. */
  frame: number | null;
  items: Map<string, Collection>;
  counters: Map<string, number>;
  entities: Map<string, Map<string, Map<string, FieldEntry>>>;
  applied: Map<string, string>;
  /**
   * How many conflict records each merge wrote (merges with none are absent): which conflict ids
   * exist, so a resolution naming an unknown one is quarantined. Rebuilt from the merge journal.
   */
  conflictCounts: Map<number, number>;
}

/** The empty state, before any merge. */
export function createMergeState(): MergeState {
  return { frame: null, items: new Map(), counters: new Map(), entities: new Map(), applied: new Map(), conflictCounts: new Map() };
}
