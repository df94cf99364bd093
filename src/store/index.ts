/**
 * The embedded filesystem store (PROTOCOL §5), by job:
 * - `store/` itself: opening a store (`openStore`, `storeContext`), its layout and plan history;
 * - `inbox/`: putting deltas (`putDeltas`, batch files), landing a transport's arrivals, scanning;
 * - `commit/`: the merger: its lock, session, the merge run and its commit (one sync per merge,
 *   lagging journals, intents for merges that move files), checkpoints, frame readiness;
 * - `history/`: reading what was committed: journals and their index, archive segments,
 *   snapshots, `stateAt`, queries, `verify`;
 * - `replication/`: merges as bundles for transports, importing, rewinding and copying stores.
 * @packageDocumentation
 */
export { openStore, openMergerOn, type Store, type Merger } from './openStore.js';
export { initStore, openStoreContext, planSha256, type StoreContext } from './storeContext.js';
export { storeLayout, resolveStoreDir, DEFAULT_STORE_DIR, archiveDirName, snapshotName, type StoreLayout } from './layout.js';
export { putDeltas, type PutInput, type PutResult, type PutOptions } from './inbox/putDeltas.js';
export { landDeltas, type Landed } from './inbox/landDeltas.js';
export { runMerges, planMerges, type MergeOptions, type MergePlanStep } from './commit/runMerge.js';
export { loadMergeSession, type MergeSession } from './commit/mergeSession.js';
export { loadStateAt, readMergeRecords, lastRecordAtOrBelow, type LoadInfo } from './history/stateAt.js';
export { openJournalIndex, type JournalIndex } from './history/journalIndex.js';
export { iterateHistory, type HistoryStep } from './history/iterateHistory.js';
export { verifyStore, type VerifyReport, type VerifyFault } from './history/verifyStore.js';
export { counterSeries, type CounterSeries, type CounterSeriesOptions } from './history/counterSeries.js';
export { fieldHistory, type FieldHistoryOptions, type FieldHistoryPage, type FieldWriteEntry } from './history/fieldHistory.js';
export { queryConflicts, queryEvents, readLog, matchesConflict, type ConflictFilter, type ConflictEntry, type EventFilter, resolutionIndex } from './history/journalQueries.js';
export { acquireMergeLock, processStartTime, type MergeLock, type LockHolder } from './commit/mergeLock.js';
export { recoverMerge, type MergeIntent } from './commit/mergeIntent.js';
export { readLagMarker, SETTLE_EVERY, SETTLE_BYTES, type LagMarker } from './commit/lazyJournals.js';
export { exportMergeBundles, createBundleTap, type MergeBundle } from './replication/mergeBundle.js';
export { importMergeBundle } from './replication/importMergeBundle.js';
export { rewindStore } from './replication/rewindStore.js';
export { copyStore } from './replication/copyStore.js';
export { scanInbox, listInbox, archiveHash, batchLineName, type InboxScan, type InboxCache, type InboxDelta, type InboxBad, type InboxFileScan } from './inbox/inbox.js';
export { createFrameReadiness, type ReadyDecision } from './commit/frameReadiness.js';
export { readArchive, readArchiveEntries, appliedDeltasOf, appliedArchiveOf, type ArchivedDelta } from './history/archive.js';
export { segmentName, encodeSegment, decodeSegment, encodeCommitLine, readSegmentCommit, type SegmentEntry, type SegmentCommit } from './history/archiveSegment.js';
export { checkpointDue, thinSnapshots, SNAPSHOT_BUDGET, type CheckpointClock } from './commit/checkpoints.js';
export { writeFileDurable, createFileDurable, appendDurable, fsyncDir } from '../durable/durableFs.js';
