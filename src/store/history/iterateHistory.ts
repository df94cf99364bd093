import type { MergeRecord } from '../../merge/records.js';
import type { MergeState } from '../../merge/mergeState.js';
import { replayMerge } from '../../merge/mergeFrame.js';
import { policiesOf } from '../../merge/fieldPolicies.js';
import { appliedDeltasOf } from './archive.js';
import { openJournalIndex } from './journalIndex.js';
import { PlanHistory } from '../planHistory.js';
import { loadStateAt } from './stateAt.js';
import type { StoreContext } from '../storeContext.js';

/** One step of history: a merge record and the state right after it. */
export interface HistoryStep {
  record: MergeRecord;
  /**
   * The state after `record`. It is the iterator's working copy and changes at the next step:
   * read it (or `toState(state)`) before advancing.
   */
  state: MergeState;
}

/**
 * Walks history forward from frame `from` to frame `to` (inclusive; defaults: the whole journal),
 * loading the state once (nearest snapshot + replay) and then applying one merge per step — it
 * never replays from zero for each step.
 */
export function* iterateHistory(ctx: StoreContext, opts: { from?: number; to?: number } = {}): Generator<HistoryStep> {
  const idx = openJournalIndex(ctx);
  try {
    const history = PlanHistory.load(ctx);
    const first = opts.from === undefined ? 0 : idx.lastAtOrBelow(opts.from - 1) + 1;
    const last = opts.to === undefined ? idx.count - 1 : idx.lastAtOrBelow(opts.to);
    if (first > last) return;
    const state = first === 0 ? loadStateAt(ctx, -1, history, idx) : loadStateAt(ctx, idx.frameAt(first - 1), history, idx);
    for (let i = first; i <= last; i += 256) {
      for (const r of idx.read(i, Math.min(last, i + 255))) {
        const plan = history.planAt(r.value.frame);
        replayMerge(state, r.value.frame, appliedDeltasOf(ctx, r.value, plan), plan.keys, policiesOf(plan));
        yield { record: r.value, state };
      }
    }
  } finally {
    idx.close();
  }
}
