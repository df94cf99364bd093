export { mergeFrame, replayMerge, type MergeInput, type MergeOutcome, type PendingDelta } from './mergeFrame.js';
export { applyDelta } from './applyDelta.js';
export { createMergeState, type MergeState, type Collection, type ItemEntry, type FieldEntry } from './mergeState.js';
export { toState, stateJson, stateSha256, type State } from './canonicalState.js';
export { encodeSnapshot, decodeSnapshot, snapshotJson, snapshotJsonV1, type Snapshot, type StampTuple, type ItemRun, type RunStamp } from './snapshotCodec.js';
export { diffStates, type StateDiff, type FieldChange, type ItemChange, type CounterChange } from './diffStates.js';
export { itemKey, type ItemKeys } from './itemKey.js';
export { ConflictTracker } from './conflictTracker.js';
export type * from './records.js';
