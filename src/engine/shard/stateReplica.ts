import { FramelogError } from '../../errors.js';
import { stateSha256 } from '../../merge/canonicalState.js';
import { replayMerge } from '../../merge/mergeFrame.js';
import { policiesOf } from '../../merge/fieldPolicies.js';
import { createMergeState, type MergeState } from '../../merge/mergeState.js';
import { appliedDeltasOf } from '../../store/history/archive.js';
import { openJournalIndex } from '../../store/history/journalIndex.js';
import { PlanHistory } from '../../store/planHistory.js';
import { loadStateAt } from '../../store/history/stateAt.js';
import type { StoreContext } from '../../store/storeContext.js';

/**
 * A worker's own copy of a run's state. It is loaded once (nearest checkpoint + replay) and then
 * follows the merger by applying each new merge's archived deltas with the same pure merge code,
 * so a frame costs what its deltas cost, not a copy of the state. At every checkpoint record the
 * replica's digest is held against the record's `state_sha256`: replicas are proven equal.
 */
export interface StateReplica {
  readonly state: MergeState;
  /** Brings the replica to the state after the last merge at or below `through` (null: empty). */
  catchUp(through: number | null): void;
}

/** A replica of the state of the store `ctx`, empty until the first {@link StateReplica.catchUp}. */
export function openStateReplica(ctx: StoreContext): StateReplica {
  let state = createMergeState();
  let loaded = false;
  return {
    get state() {
      return state;
    },
    catchUp(through) {
      if (through === null) {
        if (state.frame !== null) state = createMergeState();
        loaded = true;
        return;
      }
      if (loaded && state.frame === through) return;
      const history = PlanHistory.load(ctx);
      const idx = openJournalIndex(ctx);
      try {
        if (!loaded || (state.frame !== null && state.frame > through)) {
          state = loadStateAt(ctx, through, history, idx);
          loaded = true;
          return;
        }
        const from = state.frame === null ? 0 : idx.lastAtOrBelow(state.frame) + 1;
        const to = idx.lastAtOrBelow(through);
        for (let i = from; i <= to; i += 256) {
          for (const r of idx.read(i, Math.min(to, i + 255))) {
            const plan = history.planAt(r.value.frame);
            replayMerge(state, r.value.frame, appliedDeltasOf(ctx, r.value, plan), plan.keys, policiesOf(plan));
            if (r.value.state_sha256 !== undefined && stateSha256(state) !== r.value.state_sha256) {
              throw new FramelogError(`state replica: after merge ${r.value.frame} its digest differs from the checkpoint's state_sha256 (the replica diverged; run framelog verify)`, 'replica-diverged');
            }
          }
        }
      } finally {
        idx.close();
      }
    },
  };
}
