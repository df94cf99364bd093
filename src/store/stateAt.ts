import type { MergeRecord } from '../merge/records.js';
import { createMergeState, type MergeState } from '../merge/mergeState.js';
import { decodeSnapshot } from '../merge/snapshotCodec.js';
import { stateSha256 } from '../merge/canonicalState.js';
import { replayMerge } from '../merge/mergeFrame.js';
import { appliedDeltasOf } from './archive.js';
import { lineHash, readJournal, type JournalLine } from './journalFile.js';
import { PlanHistory } from './planHistory.js';
import { listSnapshotFrames, readSnapshot } from './snapshots.js';
import type { StoreContext } from './storeContext.js';

/** Reads the merge journal. */
export function readMergeRecords(ctx: StoreContext): Array<JournalLine<MergeRecord>> {
  return readJournal<MergeRecord>(ctx.layout.merges, 'journal/merges.ndjson');
}

/** Index of the last record with frame ≤ `frame` (records ascend by frame), or -1. */
export function lastRecordAtOrBelow(records: ReadonlyArray<{ value: MergeRecord }>, frame: number): number {
  let lo = 0, hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid].value.frame <= frame) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The merge state after the last merge at or below `frame` (default: the latest), PROTOCOL §3:
 * the nearest good snapshot at or below it, plus the archived deltas of later merges in the
 * order the merge records give. A snapshot whose state does not hash to its record's
 * `state_sha256` is skipped as a cache miss (verify reports it).
 */
export function loadStateAt(ctx: StoreContext, frame?: number, records = readMergeRecords(ctx), history = PlanHistory.load(ctx)): MergeState {
  const target = frame === undefined ? records.length - 1 : lastRecordAtOrBelow(records, frame);
  if (target < 0) return createMergeState();
  let state = createMergeState();
  let from = 0;
  const snapFrames = listSnapshotFrames(ctx.layout);
  for (let i = snapFrames.length - 1; i >= 0; i--) {
    const f = snapFrames[i];
    if (f > records[target].value.frame) continue;
    const idx = lastRecordAtOrBelow(records, f);
    if (idx < 0 || records[idx].value.frame !== f) continue;
    const snap = readSnapshot(ctx.layout, f);
    if (!snap) continue;
    let candidate: MergeState;
    try {
      candidate = decodeSnapshot(snap.snapshot);
    } catch {
      continue;
    }
    if (snap.snapshot.record_sha256 !== lineHash(records[idx].text)) continue;
    if (stateSha256(candidate) !== records[idx].value.state_sha256) continue;
    state = candidate;
    from = idx + 1;
    break;
  }
  for (let i = from; i <= target; i++) {
    const r = records[i].value;
    const plan = history.planAt(r.frame);
    replayMerge(state, r.frame, appliedDeltasOf(ctx, r, plan), plan.keys);
  }
  return state;
}
