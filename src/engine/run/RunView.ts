import { toState, type State } from '../../merge/canonicalState.js';
import { diffStates, type StateDiff } from '../../merge/diffStates.js';
import type { EventRecord, MergeRecord } from '../../merge/records.js';
import { iterateHistory } from '../../store/history/iterateHistory.js';
import { queryEvents, readLog, type EventFilter } from '../../store/history/journalQueries.js';
import { loadStateAt } from '../../store/history/stateAt.js';
import type { StoreContext } from '../../store/storeContext.js';
import { FramelogError } from '../../errors.js';

/** One frame of a replay: the merge that closed it, the state right after, and its events. */
export interface ReplayFrame {
  frame: number;
  record: MergeRecord;
  /** The canonical state after this frame (a fresh object per frame). */
  state: State;
  /** The events this merge appended, in merge order. */
  events: EventRecord[];
}

/**
 * A read-only view of a run's history up to `frame` (or all of it): state at any frame, diffs,
 * replay, the journals. Rewinding returns one of these: nothing is truncated or changed.
 */
export class RunView {
  /**
   * @param ctx the run's store.
   * @param limit the last frame this view can see (undefined: the whole history).
   */
  constructor(protected readonly ctx: StoreContext, readonly limit?: number) {}

  private clamp(frame: number | undefined, what: string): number | undefined {
    if (frame !== undefined && (!Number.isSafeInteger(frame) || frame < 0)) throw new FramelogError(`${what} ${frame}: not a frame number (want an integer ≥ 0)`, 'bad-argument');
    if (this.limit === undefined) return frame;
    if (frame === undefined) return this.limit;
    if (frame > this.limit) throw new FramelogError(`${what} ${frame}: this view was rewound to frame ${this.limit} (fork it to go on from there)`, 'bad-argument');
    return frame;
  }

  /** The canonical state after `frame` (default: the last frame of the view). */
  async stateAt(frame?: number): Promise<State> {
    return toState(loadStateAt(this.ctx, this.clamp(frame, 'stateAt')));
  }

  /** What changed between frame `a` and frame `b`. */
  async diff(a: number, b: number): Promise<StateDiff> {
    const fa = this.clamp(a, 'diff')!, fb = this.clamp(b, 'diff')!;
    return diffStates(loadStateAt(this.ctx, fa), loadStateAt(this.ctx, fb), fa, fb);
  }

  /**
   * Walks frames `from` … `to` (inclusive) forward, calling `onFrame` with each merge, the state
   * after it and its events; the state is loaded once and then advanced one merge per step.
   * Returns the number of frames visited.
   */
  async replay(from: number, to: number | undefined, onFrame: (f: ReplayFrame) => void | Promise<void>): Promise<number> {
    const last = this.clamp(to, 'replay');
    const events = new Map<number, EventRecord[]>();
    for (const e of queryEvents(this.ctx, { frame: { from, to: last } })) {
      let list = events.get(e.merge);
      if (!list) events.set(e.merge, (list = []));
      list.push(e);
    }
    let n = 0;
    for (const step of iterateHistory(this.ctx, { from, to: last })) {
      await onFrame({ frame: step.record.frame, record: step.record, state: toState(step.state), events: events.get(step.record.frame) ?? [] });
      n++;
    }
    return n;
  }

  /** The merge records of the view, oldest first. */
  async log(): Promise<MergeRecord[]> {
    const all = readLog(this.ctx);
    return this.limit === undefined ? all : all.filter((r) => r.frame <= this.limit!);
  }

  /** The event log of the view, filtered. */
  async events(filter: EventFilter = {}): Promise<EventRecord[]> {
    const all = queryEvents(this.ctx, filter);
    return this.limit === undefined ? all : all.filter((e) => e.merge <= this.limit!);
  }
}
