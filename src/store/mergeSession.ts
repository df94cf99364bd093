import { identityKey } from '../delta/identity.js';
import type { MergeState } from '../merge/mergeState.js';
import { lineHash } from './journalFile.js';
import { PlanHistory } from './planHistory.js';
import type { InboxCache } from './inbox.js';
import { listSnapshotFrames } from './snapshots.js';
import { loadStateAt, readMergeRecords } from './stateAt.js';
import { openJournalIndex } from './journalIndex.js';
import type { StoreContext } from './storeContext.js';

/**
 * What a merger keeps in memory between merges: the state after the last merge, the redelivery
 * index over all history, and the chain head. Loaded once; a watch-mode merger reuses it.
 */
export interface MergeSession {
  state: MergeState;
  /** Hash of the last merge record's line (the next record's `prev`). */
  head: string | null;
  mergesSinceSnapshot: number;
  history: PlanHistory;
  /** Parsed inbox files, so a long-running merger reads each file once. */
  inbox: InboxCache;
}

/** Loads the merger's working state from the journal, snapshots and archive. */
export function loadMergeSession(ctx: StoreContext): MergeSession {
  const records = readMergeRecords(ctx);
  const history = PlanHistory.load(ctx);
  const index = openJournalIndex(ctx, { repair: true });
  let state;
  try {
    state = loadStateAt(ctx, undefined, history, index);
  } finally {
    index.close();
  }
  for (const r of records) for (const a of r.value.applied) state.applied.set(identityKey(a), a.sha256);
  const last = records.at(-1);
  const snaps = listSnapshotFrames(ctx.layout);
  const lastSnap = snaps.at(-1) ?? -1;
  let since = 0;
  for (let i = records.length - 1; i >= 0 && records[i].value.frame > lastSnap; i--) since++;
  return { state, head: last ? lineHash(last.text) : null, mergesSinceSnapshot: since, history, inbox: new Map() };
}
