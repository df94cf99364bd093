import { identityKey } from '../../delta/identity.js';
import type { MergeState } from '../../merge/mergeState.js';
import type { CheckpointClock } from './checkpoints.js';
import { lineHash } from '../history/journalFile.js';
import { writeSnapshot } from '../history/snapshots.js';
import { PlanHistory } from '../planHistory.js';
import type { InboxCache } from '../inbox/inbox.js';
import { loadStateAt, readMergeRecords, type LoadInfo } from '../history/stateAt.js';
import { openJournalIndex } from '../history/journalIndex.js';
import type { StoreContext } from '../storeContext.js';
import { noLag, type JournalLag } from './lazyJournals.js';
import type { MergeIntent } from './mergeIntent.js';

/**
 * What a merger keeps in memory between merges: the state after the last merge, the redelivery
 * index over all history, the chain head and the checkpoint clock. Loaded once; a watch-mode
 * merger reuses it.
 */
export interface MergeSession {
  state: MergeState;
  /** Hash of the last merge record's line (the next record's `prev`). */
  head: string | null;
  /** When the next checkpoint is due (PROTOCOL v1.1 §3). */
  clock: CheckpointClock;
  /**
   * Bytes the archive holds (old snapshots are thinned against it): counted from disk at the first
   * thinning, then kept up to date, so opening a merger does not stat the whole archive.
   */
  archived?: number;
  history: PlanHistory;
  /** Parsed inbox files, so a long-running merger reads each file once. */
  inbox: InboxCache;
  /** The journals' sizes (measured once, then counted), so a merge does not stat them. */
  sizes?: MergeIntent['sizes'];
  /** Journal lines appended since the journals were last made durable (see `lazyJournals.ts`). */
  lag: JournalLag;
  /** Snapshots found unreadable (cut short by a power failure) and written again when the merger opened. */
  repairedSnapshots: number[];
}

/** Loads the merger's working state from the journal, snapshots and archive. */
export function loadMergeSession(ctx: StoreContext): MergeSession {
  const records = readMergeRecords(ctx);
  const history = PlanHistory.load(ctx);
  const index = openJournalIndex(ctx, { repair: true });
  const info: LoadInfo = { checkpointStateBytes: 0, replayedMerges: 0, replayedBytes: 0, unreadableSnapshots: [] };
  let state;
  const repairedSnapshots: number[] = [];
  try {
    state = loadStateAt(ctx, undefined, history, index, info);
    // A snapshot is a cache: one a power failure cut short is written again from the log, so a
    // reader (and verify) finds it whole.
    for (const f of new Set(info.unreadableSnapshots)) {
      const i = index.lastAtOrBelow(f);
      if (i < 0 || index.frameAt(i) !== f) continue;
      const at = loadStateAt(ctx, f, history, index);
      writeSnapshot(ctx.layout, at, lineHash(index.read(i, i)[0].text), history.keysChangedBy(f));
      repairedSnapshots.push(f);
    }
  } finally {
    index.close();
  }
  for (const r of records) {
    for (const a of r.value.applied) state.applied.set(identityKey(a), a.sha256);
    if (r.value.conflicts > 0) state.conflictCounts.set(r.value.frame, r.value.conflicts);
  }
  const last = records.at(-1);
  // The replay since the snapshot it started from is exactly what the clock counts.
  const clock: CheckpointClock = { bytesSince: info.replayedBytes, mergesSince: info.replayedMerges, stateBytes: info.checkpointStateBytes };
  return { state, head: last ? lineHash(last.text) : null, clock, history, inbox: new Map(), lag: noLag(), repairedSnapshots };
}
