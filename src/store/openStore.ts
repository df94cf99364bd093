import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../delta/plan.js';
import type { Delta } from '../delta/types.js';
import { toState, type State } from '../merge/canonicalState.js';
import { diffStates, type StateDiff } from '../merge/diffStates.js';
import type { MergeState } from '../merge/mergeState.js';
import type { ConflictRecord, EventRecord, MergeRecord } from '../merge/records.js';
import { queryConflicts, queryEvents, readLog, type ConflictFilter, type EventFilter } from './history/journalQueries.js';
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
  /** Conflict records, filtered. */
  conflicts(filter?: ConflictFilter): Promise<ConflictRecord[]>;
  /** Event records, filtered. */
  events(filter?: EventFilter): Promise<EventRecord[]>;
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
    events: async (filter) => queryEvents(ctx, filter),
    verify: async () => verifyStore(ctx),
  };
}
