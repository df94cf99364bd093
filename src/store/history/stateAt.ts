import type { MergeRecord } from '../../merge/records.js';
import { createMergeState, type MergeState } from '../../merge/mergeState.js';
import { decodeSnapshot } from '../../merge/snapshotCodec.js';
import { stateJson } from '../../merge/canonicalState.js';
import { sha256Hex } from '../../delta/contentHash.js';
import type { ItemKeys } from '../../merge/itemKey.js';
import { replayMerge } from '../../merge/mergeFrame.js';
import { policiesOf } from '../../merge/fieldPolicies.js';
import { appliedArchiveOf } from './archive.js';
import { lineHash, readJournal, type JournalLine } from './journalFile.js';
import { PlanHistory } from '../planHistory.js';
import { listSnapshotFrames, readSnapshot } from './snapshots.js';
import { openJournalIndex, type JournalIndex } from './journalIndex.js';
import { snapshotName } from '../layout.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreContext } from '../storeContext.js';

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

/** How many records back `loadStateAt` probes for a snapshot before listing the folder. */
const SNAPSHOT_PROBE = 256;

/** What {@link loadStateAt} read to build the state: the checkpoint it started from and the replay. */
export interface LoadInfo {
  /** Bytes of the canonical state at the snapshot it started from (0: it replayed from the start). */
  checkpointStateBytes: number;
  /** Merges replayed after that snapshot, and the bytes of their archived deltas. */
  replayedMerges: number;
  replayedBytes: number;
  /** Frames whose snapshot file is there but unreadable (cut short by a power failure): skipped, to be rewritten by a merger. */
  unreadableSnapshots?: number[];
}

/**
 * Decodes the snapshot of checkpoint record `rec` when it is whole, anchored to that record and
 * hashes to its `state_sha256`; else undefined (a cache miss).
 */
function trySnapshot(ctx: StoreContext, rec: JournalLine<MergeRecord>, keys: ItemKeys, info?: LoadInfo): { state: MergeState; bytes: number } | undefined {
  if (rec.value.state_sha256 === undefined) return undefined;
  const snap = readSnapshot(ctx.layout, rec.value.frame);
  if (!snap) {
    if (existsSync(join(ctx.layout.root, snapshotName(rec.value.frame)))) info?.unreadableSnapshots?.push(rec.value.frame);
    return undefined;
  }
  if (snap.snapshot.record_sha256 !== lineHash(rec.text)) return undefined;
  try {
    const state = decodeSnapshot(snap.snapshot, keys);
    const text = stateJson(state);
    return sha256Hex(text) === rec.value.state_sha256 ? { state, bytes: text.length } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The merge state after the last merge at or below `frame` (default: the latest), PROTOCOL §3:
 * the nearest good snapshot at or below it, plus the archived deltas of later merges in the
 * order the merge records give. Records are found by binary search in the journal index, so the
 * cost is that of at most `snapshotEvery` merges of replay, whatever the history length. A
 * snapshot that does not match its record is skipped as a cache miss (verify reports it).
 */
export function loadStateAt(ctx: StoreContext, frame?: number, history = PlanHistory.load(ctx), index?: JournalIndex, info?: LoadInfo): MergeState {
  const idx = index ?? openJournalIndex(ctx);
  try {
    const target = frame === undefined ? idx.count - 1 : idx.lastAtOrBelow(frame);
    if (target < 0) return createMergeState();
    let state: MergeState | undefined;
    let from = 0;
    const floor = Math.max(0, target - SNAPSHOT_PROBE);
    for (let i = target; i >= floor && !state; i--) {
      if (!existsSync(join(ctx.layout.root, snapshotName(idx.frameAt(i))))) continue;
      const got = trySnapshot(ctx, idx.read(i, i)[0], history.planAt(idx.frameAt(i)).keys, info);
      if (got) {
        state = got.state;
        from = i + 1;
        if (info) info.checkpointStateBytes = got.bytes;
      }
    }
    if (!state && floor > 0) {
      // Snapshots are sparse here: list them instead of probing record by record.
      const targetFrame = idx.frameAt(target);
      for (const f of listSnapshotFrames(ctx.layout).filter((f) => f <= targetFrame).reverse()) {
        const i = idx.lastAtOrBelow(f);
        if (i < 0 || idx.frameAt(i) !== f) continue;
        const got = trySnapshot(ctx, idx.read(i, i)[0], history.planAt(f).keys, info);
        if (got) {
          state = got.state;
          from = i + 1;
          if (info) info.checkpointStateBytes = got.bytes;
          break;
        }
      }
    }
    state ??= createMergeState();
    for (let i = from; i <= target; i += 1000) {
      for (const r of idx.read(i, Math.min(target, i + 999))) {
        const plan = history.planAt(r.value.frame);
        const { deltas, bytes } = appliedArchiveOf(ctx, r.value, plan);
        replayMerge(state, r.value.frame, deltas, plan.keys, policiesOf(plan));
        if (info) {
          info.replayedMerges++;
          info.replayedBytes += bytes;
        }
      }
    }
    return state;
  } finally {
    if (!index) idx.close();
  }
}
