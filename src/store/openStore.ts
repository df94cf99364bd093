import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../delta/plan.js';
import type { Delta } from '../delta/types.js';
import { toState, type State } from '../merge/canonicalState.js';
import { diffStates, type StateDiff } from '../merge/diffStates.js';
import type { MergeState } from '../merge/mergeState.js';
import type { EventRecord, MergeRecord } from '../merge/records.js';
import { planResolution, type ResolutionPlan, type ResolveRequest } from '../resolve/planResolution.js';
import { counterSeries, type CounterSeries, type CounterSeriesOptions } from './history/counterSeries.js';
import { fieldHistory, type FieldHistoryOptions, type FieldHistoryPage } from './history/fieldHistory.js';
import { queryConflicts, queryEvents, readLog, type ConflictEntry, type ConflictFilter, type EventFilter } from './history/journalQueries.js';
import { resolveStoreDir } from './layout.js';
import { acquireMergeLock, type MergeLock } from './commit/mergeLock.js';
import { sweepTemps } from '../durable/sweepTemps.js';
import { recoverMerge } from './commit/mergeIntent.js';
import { settleJournals } from './commit/lazyJournals.js';
import { loadMergeSession, type MergeSession } from './commit/mergeSession.js';
import { putDeltas, type PutInput, type PutResult } from './inbox/putDeltas.js';
import { runMerges, type MergeOptions } from './commit/runMerge.js';
import { loadStateAt } from './history/stateAt.js';
import { scanInbox, type InboxScan } from './inbox/inbox.js';
import { initStore, openStoreContext, type StoreContext } from './storeContext.js';
import { verifyStore, type VerifyReport } from './history/verifyStore.js';

/** A merger holding the store's lock: merges reuse the state in memory. */
export interface Merger {
  /** Closes pending frames (all, up to `through`, or the given `frames`). */
  merge(opts?: MergeOptions): MergeRecord[];
  /**
   * Puts deltas (as {@link putDeltas}) and keeps what it validated, so that the merge does not
   * read and parse them again: the way a process that writes and merges (a simulation) puts.
   */
  put(inputs: PutInput[]): PutResult[];
  /** Reads the inbox through the merger's cache (each file is parsed once while it waits). */
  scan(): InboxScan;
  /** The state after the last merge (the merger's own copy: do not mutate). */
  readonly state: MergeState;
  /** Drops the state in memory, to be loaded again from disk (after the store was changed under the lock, e.g. by `importMergeBundle`). */
  reload(): void;
  /**
   * Makes the journals durable now. A merge is durable when it returns (its archive segment holds
   * its journal lines); the journals themselves are synced every few merges, here and at close.
   */
  flush(): void;
  /** Makes the journals durable and releases the lock. */
  close(): void;
}

/** An open filesystem store (PROTOCOL §5). */
export interface Store {
  readonly dir: string;
  readonly plan: Plan;
  /** The store's paths and plan, for the lower-level functions. */
  readonly context: StoreContext;
  /** Validates deltas and drops them into the inbox; all or nothing; resolves once durable. */
  put(deltas: Array<Delta | Uint8Array | string>): Promise<PutResult[]>;
  /** Takes the merger lock, recovers an interrupted merge, closes pending frames, releases the lock. */
  merge(opts?: MergeOptions): Promise<MergeRecord[]>;
  /** Takes the merger lock and keeps it, for a merger that runs many merges. */
  openMerger(): Merger;
  /** Canonical state after frame N (default: the latest merge). */
  stateAt(frame?: number): Promise<State>;
  /** What changed between frame `a` and frame `b`. */
  diff(a: number, b: number): Promise<StateDiff>;
  /** The merge records. */
  log(): Promise<MergeRecord[]>;
  /**
   * Conflict records, filtered, each with its id and, once resolved, the resolution that closed
   * it (`{ open: true }`: the open ones, PROTOCOL §2a).
   */
  conflicts(filter?: ConflictFilter): Promise<ConflictEntry[]>;
  /** Event records, filtered. */
  events(filter?: EventFilter): Promise<EventRecord[]>;
  /**
   * Every write to one field, newest first: the merge, the delta, the value, whether it won or
   * lost, and the conflict it took part in. Paged: a page reads a bounded number of merges and
   * says where to go on (`next`, passed as `before`).
   */
  fieldHistory(type: string, id: string, field: string, options?: FieldHistoryOptions): Promise<FieldHistoryPage>;
  /** Counters over frames: the value of each counter named (none: every counter) after each merge of a range. */
  counterSeries(names?: readonly string[], options?: CounterSeriesOptions): Promise<CounterSeries>;
  /**
   * Closes conflicts (PROTOCOL §2a): builds the resolution deltas a request asks for (by ids, or
   * every open conflict a filter selects; a value, a writer's side, a policy, `keep`, or a
   * resolver module) and puts them into the inbox, durably. The next merge applies them.
   */
  resolve(request: ResolveRequest): Promise<ResolutionPlan & { put: PutResult[] }>;
  /** Recomputes everything from the archive and names the first fault. */
  verify(): Promise<VerifyReport>;
}

function toPutInput(d: Delta | Uint8Array | string, i: number): PutInput {
  if (d instanceof Uint8Array) return { bytes: d, source: `delta #${i + 1}` };
  if (typeof d === 'string') return { bytes: Buffer.from(d), source: `delta #${i + 1}` };
  return { bytes: Buffer.from(JSON.stringify(d)), source: `delta #${i + 1}` };
}

/** Opens a merger on `ctx`: lock, recovery, session. */
export function openMergerOn(ctx: StoreContext): Merger {
  const lock: MergeLock = acquireMergeLock(ctx.layout.lock);
  let session: MergeSession | undefined;
  try {
    // Temps that writers killed mid-write (or a power failure) left: no process will remove them.
    sweepTemps([ctx.layout.inbox, ctx.layout.quarantine, ctx.layout.snapshots, ctx.layout.root]);
    recoverMerge(ctx);
    session = loadMergeSession(ctx);
  } catch (e) {
    lock.release();
    throw e;
  }
  return {
    merge(opts) {
      if (!session) {
        recoverMerge(ctx);
        session = loadMergeSession(ctx);
      }
      try {
        return runMerges(ctx, session, opts);
      } catch (e) {
        session = undefined; // in-memory state may be ahead of the disk: reload next time
        throw e;
      }
    },
    put(inputs) {
      if (!session) session = loadMergeSession(ctx);
      const cache = session.inbox;
      return putDeltas(ctx, inputs, {
        written(file, scan) {
          const st = statSync(join(ctx.layout.inbox, file));
          cache.set(file, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, result: scan });
        },
      });
    },
    scan() {
      if (!session) session = loadMergeSession(ctx);
      return scanInbox(ctx.layout, ctx.plan, session.inbox);
    },
    get state() {
      if (!session) session = loadMergeSession(ctx);
      return session.state;
    },
    reload() {
      if (session) settleJournals(ctx, session.lag);
      recoverMerge(ctx);
      session = undefined;
    },
    flush() {
      if (session) settleJournals(ctx, session.lag);
    },
    close() {
      try {
        if (session) settleJournals(ctx, session.lag);
      } finally {
        lock.release();
      }
    },
  };
}

/**
 * Opens the store at `dir` (default: `FRAMELOG_DIR`, then `.framelog`); with `create`, makes
 * one when there is none.
 */
export async function openStore(dir?: string, opts: { create?: boolean; plan?: Partial<Plan> } = {}): Promise<Store> {
  const root = resolveStoreDir(dir);
  let ctx: StoreContext;
  try {
    ctx = openStoreContext(root);
  } catch (e) {
    if (!opts.create || (e as { code?: string }).code !== 'no-store') throw e;
    ctx = initStore(root, opts.plan);
  }
  return {
    dir: root,
    plan: ctx.plan,
    context: ctx,
    put: async (deltas) => putDeltas(ctx, deltas.map(toPutInput)),
    merge: async (opts) => {
      const m = openMergerOn(ctx);
      try {
        return m.merge(opts);
      } finally {
        m.close();
      }
    },
    openMerger: () => openMergerOn(ctx),
    stateAt: async (frame) => toState(loadStateAt(ctx, frame)),
    diff: async (a, b) => diffStates(loadStateAt(ctx, a), loadStateAt(ctx, b), a, b),
    log: async () => readLog(ctx),
    conflicts: async (filter) => queryConflicts(ctx, filter),
    fieldHistory: async (type, id, field, options) => fieldHistory(ctx, type, id, field, options),
    counterSeries: async (names, options) => counterSeries(ctx, names, options),
    events: async (filter) => queryEvents(ctx, filter),
    verify: async () => verifyStore(ctx),
    resolve: async (request) => {
      const plan = await planResolution(ctx, request);
      return { ...plan, put: plan.deltas.length > 0 ? putDeltas(ctx, plan.deltas.map(toPutInput)) : [] };
    },
  };
}
