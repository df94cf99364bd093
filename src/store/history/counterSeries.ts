import { FramelogError } from '../../errors.js';
import type { StoreContext } from '../storeContext.js';
import { iterateHistory } from './iterateHistory.js';
import { openJournalIndex } from './journalIndex.js';

/** Options of {@link counterSeries}. */
export interface CounterSeriesOptions {
  /** The first merge frame (default: `maxMerges` merges before `to`). */
  from?: number;
  /** The last merge frame (default: the latest merge). */
  to?: number;
  /** At most this many merges walked per call (default 5,000): a call reads that many merges' deltas at most. */
  maxMerges?: number;
}

/** Counters over frames: one point per merge in the range. */
export interface CounterSeries {
  /** The merge frames, ascending. */
  frames: number[];
  /** Counter name → its value after each of those merges (0 before its first increment). */
  series: Record<string, number[]>;
  /** True when the range held more merges than `maxMerges` and was cut to its last ones. */
  cut: boolean;
}

/**
 * The values of counters `names` (none given: every counter) after each merge from `from` to `to`: the state is loaded once at
 * the start (a snapshot plus the deltas since) and every merge's deltas applied in turn, so a call
 * costs the deltas of its range, bounded by `maxMerges`.
 */
export function counterSeries(ctx: StoreContext, names: readonly string[] = [], o: CounterSeriesOptions = {}): CounterSeries {
  const maxMerges = o.maxMerges ?? 5000;
  if (!Number.isSafeInteger(maxMerges) || maxMerges < 1) throw new FramelogError(`counter series: maxMerges ${maxMerges} must be a whole number ≥ 1`, 'bad-argument');
  if (o.from !== undefined && o.to !== undefined && o.from > o.to) throw new FramelogError(`counter series: from ${o.from} is after to ${o.to}`, 'bad-argument');
  let from = o.from;
  let cut = false;
  const idx = openJournalIndex(ctx);
  try {
    const last = o.to === undefined ? idx.count - 1 : idx.lastAtOrBelow(o.to);
    const first = from === undefined ? 0 : idx.lastAtOrBelow(from - 1) + 1;
    if (last - first + 1 > maxMerges) {
      cut = true;
      from = idx.frameAt(last - maxMerges + 1);
    } else if (last >= 0 && first <= last) from = idx.frameAt(first);
  } finally {
    idx.close();
  }
  const frames: number[] = [];
  const series: Record<string, number[]> = Object.create(null) as Record<string, number[]>;
  for (const n of names) series[n] = [];
  for (const step of iterateHistory(ctx, { ...(from !== undefined ? { from } : {}), ...(o.to !== undefined ? { to: o.to } : {}) })) {
    if (names.length === 0) {
      // Every counter: one that first appears now was 0 at the points before.
      for (const n of step.state.counters.keys()) series[n] ??= new Array<number>(frames.length).fill(0);
    }
    frames.push(step.record.frame);
    for (const n in series) series[n].push(step.state.counters.get(n) ?? 0);
  }
  return { frames, series, cut };
}
