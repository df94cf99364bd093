import { deltaRef, identityKey } from '../delta/identity.js';
import { compareDeltas, compareStrings } from '../delta/stamp.js';
import type { DeltaRef, ValidDelta } from '../delta/types.js';
import { applyDelta } from './applyDelta.js';
import { ConflictTracker } from './conflictTracker.js';
import type { ItemKeys } from './itemKey.js';
import type { MergeState } from './mergeState.js';
import type { FieldPolicies } from './fieldPolicies.js';
import type { ConflictFormat, ConflictRecord, DeltaConflict, EventRecord, MergeRecord, QuarantineRef, Resolved } from './records.js';

/** A valid delta and the file it came from (archive path, relative to the store). */
export interface PendingDelta {
  delta: ValidDelta;
  file: string;
}

/** What one merge needs besides the state. */
export interface MergeInput {
  /** The frame this merge closes. */
  frame: number;
  /** Every pending delta to apply, in any order (fallbacks and redeliveries included). */
  deltas: PendingDelta[];
  quarantined?: QuarantineRef[];
  keys: ItemKeys;
  /** Writers expected every frame; those with no delta for `frame` are listed as missing. */
  expectedWriters?: readonly string[];
  /** The merger's wall clock (epoch ms), for the record's `utc` and the skew check. */
  nowMs: number;
  maxSkewMs: number;
  /** The plan's field policies, compiled (default: every field `lww`). */
  policies?: FieldPolicies;
  /** The shape of the conflict records (default 2, PROTOCOL v1.1; verify passes 1 for older merges). */
  conflictFormat?: ConflictFormat;
}

/**
 * The outcome of one merge: the record (without `prev`, `state_sha256` and the hashes the store
 * adds) and its logs.
 */
export interface MergeOutcome {
  record: Omit<MergeRecord, 'prev' | 'state_sha256' | 'conflicts_sha256' | 'events_sha256' | 'plan_sha256' | 'archive_sha256'>;
  conflicts: ConflictRecord[];
  events: EventRecord[];
}

/**
 * Closes one frame (PROTOCOL §2–3): applies the pending deltas in merge order, skips
 * redeliveries, records conflicts and events, and returns the merge record. Pure: no I/O.
 * Mutates `state` into the state after the merge; the result never depends on the order of
 * `input.deltas`.
 */
export function mergeFrame(state: MergeState, input: MergeInput): MergeOutcome {
  const { frame } = input;
  if (state.frame !== null && frame <= state.frame) throw new RangeError(`frame ${frame} is not after the last closed frame ${state.frame}`);
  // Merge order, then the file name: two copies of one content hash tie on the stamp.
  const sorted = input.deltas.slice().sort((a, b) => compareDeltas(a.delta, b.delta) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const lastFrame = state.frame;
  const tracker = new ConflictTracker();
  const applied: DeltaRef[] = [];
  const late: DeltaRef[] = [];
  const duplicates: DeltaRef[] = [];
  const skewed: DeltaRef[] = [];
  const fallback: string[] = [];
  const reported = new Set<string>();
  const deltaConflicts = new Map<string, DeltaConflict>();
  const events: EventRecord[] = [];
  const resolved: Resolved[] = [];
  const skewLimit = input.nowMs + input.maxSkewMs;

  for (const { delta: d, file } of sorted) {
    if (d.frame === frame) reported.add(d.writer);
    if (d.status === 'fallback') {
      if (!fallback.includes(d.writer)) fallback.push(d.writer);
      continue;
    }
    const k = identityKey(d);
    const kept = state.applied.get(k);
    if (kept !== undefined) {
      if (kept === d.sha256) duplicates.push(deltaRef(d));
      else {
        // One record per identity: the first conflicting copy, and every copy in `others`.
        const c = deltaConflicts.get(k);
        if (c) c.others.push({ sha256: d.sha256, file });
        else deltaConflicts.set(k, { merge: frame, kind: 'delta', frame: d.frame, writer: d.writer, seq: d.seq, kept, other: d.sha256, file, others: [{ sha256: d.sha256, file }] });
      }
      continue;
    }
    state.applied.set(k, d.sha256);
    tracker.applying(k);
    applyDelta(state, d, input.keys, tracker, input.policies);
    if (d.resolves) for (const c of d.resolves) resolved.push({ conflict: c, frame: d.frame, writer: d.writer, seq: d.seq });
    const ref = deltaRef(d);
    applied.push(ref);
    if (lastFrame !== null && d.frame <= lastFrame) late.push(ref);
    if (d.utcMs > skewLimit) skewed.push(ref);
    for (const event of d.events) events.push({ merge: frame, frame: d.frame, writer: d.writer, seq: d.seq, utc: d.utc, event });
  }
  state.frame = frame;
  const format = input.conflictFormat ?? 2;
  const deltaRecords = [...deltaConflicts.values()];
  let conflicts: ConflictRecord[];
  if (format === 2) {
    deltaRecords.sort((a, b) => a.frame - b.frame || compareStrings(a.writer, b.writer) || a.seq - b.seq);
    conflicts = [...deltaRecords, ...tracker.records(frame, 2)].map((c, n) => numbered(c, `m${frame}.${n}`));
  } else conflicts = [...deltaRecords, ...tracker.records(frame, 1)];
  if (conflicts.length > 0) state.conflictCounts.set(frame, conflicts.length);
  const missing = (input.expectedWriters ?? []).filter((w) => !reported.has(w)).sort();
  return {
    record: {
      frame, utc: new Date(input.nowMs).toISOString(), applied, late, fallback, missing, duplicates, skewed,
      quarantined: input.quarantined ?? [], conflicts: conflicts.length,
      ...(resolved.length > 0 ? { resolved } : {}),
    },
    conflicts,
    events,
  };
}

/** A conflict record with its id placed after `kind` (the order a reader scans). */
function numbered(c: ConflictRecord, id: string): ConflictRecord {
  const { merge, kind, ...rest } = c;
  return { merge, kind, conflict: id, ...rest } as ConflictRecord;
}

/**
 * Replays a merge from its record: applies exactly the deltas the record lists as applied, in
 * its order, without conflict tracking. Used to rebuild state at a frame.
 */
export function replayMerge(state: MergeState, frame: number, applied: ValidDelta[], keys: ItemKeys, policies?: FieldPolicies): void {
  for (const d of applied) {
    state.applied.set(identityKey(d), d.sha256);
    applyDelta(state, d, keys, undefined, policies);
  }
  state.frame = frame;
}
