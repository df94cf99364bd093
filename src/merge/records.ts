import type { FieldPolicy } from '../delta/plan.js';
import type { DeltaIdentity, DeltaRef, JsonObject, JsonValue } from '../delta/types.js';

/** A conflict a resolution closed: its id and the resolution's identity. */
export interface Resolved extends DeltaIdentity {
  conflict: string;
}

/** A delta set aside because it broke PROTOCOL §1. */
export interface QuarantineRef {
  /** The inbox file name it arrived under. */
  file: string;
  /** One line: the field and the rule it broke. */
  why: string;
}

/**
 * The merge record: one per merge, appended to `journal/merges.ndjson` (and written first in the
 * commit line of the merge's archive segment, whose sync commits the merge). `prev` chains the
 * records.
 */
export interface MergeRecord {
  frame: number;
  /** The merger's wall clock when it closed the frame. */
  utc: string;
  applied: DeltaRef[];
  late: DeltaRef[];
  fallback: string[];
  missing: string[];
  duplicates: DeltaRef[];
  skewed: DeltaRef[];
  quarantined: QuarantineRef[];
  conflicts: number;
  /**
   * The conflicts this merge resolved (PROTOCOL v1.1 §2a): each id a resolution applied here names,
   * with that resolution's identity, in merge order. Absent when the merge resolved none.
   */
  resolved?: Resolved[];
  /**
   * SHA-256 of the canonical state after this merge. Present on checkpoint records (a snapshot
   * was written after the merge; PROTOCOL v1.1 §3) and on every record of a v1 store; left out
   * of the others, so that a merge costs what its deltas cost.
   */
  state_sha256?: string;
  /** SHA-256 of this merge's conflict lines, so an edited conflict record is caught. */
  conflicts_sha256: string;
  /** SHA-256 of this merge's event lines. */
  events_sha256: string;
  /** SHA-256 of the canonical plan in force. */
  plan_sha256: string;
  /**
   * SHA-256 over the merge's archive folder (each file's name and the SHA-256 of its bytes), so
   * any edit to an archived file — a fallback's meta or a change of white space included — is caught.
   */
  archive_sha256: string;
  /** SHA-256 of the previous record's line, or null for the first. */
  prev: string | null;
}

/**
 * The shape of a merge's conflict records: 2 (PROTOCOL v1.1) numbers them `m<merge>.<n>` in a fixed
 * order and names each field winner's policy; 1 is what stores before v1.1 wrote (verify
 * recomputes their merges in it).
 */
export type ConflictFormat = 1 | 2;

/** Who wrote a value, and when, in a conflict record. */
export interface ConflictSide {
  value: JsonValue;
  frame: number;
  utc: string;
  writer: string;
  seq: number;
}

/** Two writes to one `(type, id, field)` disagreed; the field's policy chose the winner. */
export interface FieldConflict {
  merge: number;
  kind: 'field';
  /**
   * The conflict's identifier, `m<merge>.<n>` (PROTOCOL v1.1 §2), which a resolution names. The
   * protocol spells this key `id`, which a field record already uses for the entity id; framelog
   * writes it as `conflict` on every kind. Absent on records written before v1.1.
   */
  conflict?: string;
  type: string;
  id: string;
  field: string;
  /**
   * What chose the winner: the field's policy as the plan spells it (`"lww"`, `"max"`,
   * `{"priority": [...]}`…), or `"resolution"` when a resolution's write won. Absent before v1.1.
   */
  policy?: FieldPolicy | 'resolution';
  /** The value before the merge; absent when the field had none. */
  base?: JsonValue;
  winner: ConflictSide;
  losers: ConflictSide[];
}

/** Two items with one natural key and different content; the earliest stamp won. */
export interface ItemConflict {
  merge: number;
  kind: 'item';
  /** The conflict's identifier, `m<merge>.<n>` (see {@link FieldConflict.conflict}). */
  conflict?: string;
  collection: string;
  /** The natural key as canonical JSON of its values (`[2]`), or `sha256:<hex>` for a keyless item. */
  key: string;
  winner: ConflictSide;
  losers: ConflictSide[];
}

/** Two copies of one delta identity with different content; the first applied is kept. */
export interface DeltaConflict {
  merge: number;
  kind: 'delta';
  /** The conflict's identifier, `m<merge>.<n>` (see {@link FieldConflict.conflict}). */
  conflict?: string;
  frame: number;
  writer: string;
  seq: number;
  /** Content hash of the copy that was applied. */
  kept: string;
  /** Content hash of the copy that was not. */
  other: string;
  /** Where the other copy is archived, relative to the store root. */
  file: string;
  /** Every conflicting copy this merge saw (the first is `other`/`file`), in merge order. */
  others: Array<{ sha256: string; file: string }>;
}

/** A conflict record (`journal/conflicts.ndjson`): conflicts are data you can query. */
export type ConflictRecord = FieldConflict | ItemConflict | DeltaConflict;

/** One event, as `journal/events.ndjson` holds it: the event and who emitted it. */
export interface EventRecord {
  merge: number;
  frame: number;
  writer: string;
  seq: number;
  utc: string;
  event: JsonObject;
}
