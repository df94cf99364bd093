import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FramelogError, isFatal } from '../errors.js';
import { createBundleTap, type MergeBundle } from '../store/replication/mergeBundle.js';
import type { MergeRecord } from '../merge/records.js';
import { landDeltas } from '../store/inbox/landDeltas.js';
import { openMergerOn, type Merger } from '../store/openStore.js';
import type { StoreContext } from '../store/storeContext.js';
import { createFrameReadiness } from '../store/commit/frameReadiness.js';
import { publishBundles, syncWithPublished, type SyncOutcome } from './syncPublished.js';
import type { MergerLease, Transport } from './transport.js';

/** Options of {@link runTransportMerger}. */
export interface TransportMergerOptions {
  /** One-shot: close only frames ≤ this one. */
  through?: number;
  /** Keep running (PROTOCOL §3 `merge --watch`) until `signal` aborts. */
  watch?: boolean;
  signal?: AbortSignal;
  /** Writers expected every frame (default: the plan's). */
  writers?: readonly string[];
  /** Watch mode: close a frame this long after its first delta (default: the plan's). */
  frameTimeoutMs?: number;
  /** Watch mode: pull at least this often even without a wake-up (default 500 ms). */
  pollMs?: number;
  /** The merger's clock (epoch ms). */
  now?: () => number;
  /**
   * Watch mode: a transport error while pulling or acknowledging (a remote that is down) is
   * reported here and retried after `pollMs`, instead of ending the merger (default: one line on
   * stderr). Merge errors always end it.
   */
  onTransportError?: (error: unknown) => void;
  /** Called after each merge commits (and the transport committed it too). */
  onMerge?: (record: MergeRecord) => void;
  /** Failover (transports with a lease): how long the lease outlives a merger that stopped renewing it (default 10 s). */
  leaseTtlMs?: number;
  /** Failover: this merger's name in the lease (default host:pid:random). */
  holder?: string;
  /**
   * Failover: keep only the last this many published merges in the transport, trimming older ones
   * (`Transport.trimMerges`) as merges are published: at least this many are kept, at most an
   * eighth more. A host whose store falls further behind is seeded with `copyStore` (`framelog copy`).
   * Default: keep every one.
   */
  keepPublished?: number;
  /** Failover: called while another merger holds the lease, and once this one holds it. */
  onLease?: (event: { waiting?: string; acquired?: { token: number; holder: string }; sync?: SyncOutcome }) => void;
}

const defaultHolder = (): string => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/**
 * The merger of every transport: `pull` → land in the inbox (`landDeltas`, named by identity +
 * hash, so landing again is a no-op) → merge, with the transport's `commitMerge` after each merge
 * is whole → `ack` what the merges took. A crash anywhere redelivers, and nothing is applied twice
 * (a redelivered copy of an applied identity is archived as a duplicate). Before the first merge,
 * the transport repairs its own state, the core finishes or undoes a half merge, and the transport
 * commits what the last record covers. Returns the merge records written.
 */
export async function runTransportMerger(ctx: StoreContext, transport: Transport, opts: TransportMergerOptions = {}): Promise<MergeRecord[]> {
  const now = opts.now ?? Date.now;
  if (opts.keepPublished !== undefined && !(Number.isSafeInteger(opts.keepPublished) && opts.keepPublished >= 1)) {
    throw new FramelogError(`keepPublished must be a whole number ≥ 1 (got ${opts.keepPublished})`, 'bad-argument');
  }
  const report = opts.onTransportError ?? ((err: unknown) => process.stderr.write(`framelog: ${transport.name}: ${(err as Error).message} (retrying)\n`));
  const fatal = isFatal; // the error table says which codes no retry can cure
  /** Watch mode: the engine may be down for a while (a restart, a leader election): report and try again. */
  const retrying = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (opts.signal?.aborted) return undefined;
        if (!opts.watch || fatal(e)) throw e;
        report(e);
        await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
      }
    }
  };
  let lease: MergerLease | undefined;
  if (transport.failover) {
    const holder = opts.holder ?? defaultHolder();
    lease = await retrying(() => transport.failover!.acquireLease({ holder, ttlMs: opts.leaseTtlMs ?? 10_000, signal: opts.signal, onWait: (waiting) => opts.onLease?.({ waiting }) }));
    if (!lease) return []; // stopped while another merger held the lease
    opts.onLease?.({ acquired: { token: lease.token, holder: lease.holder } });
  }
  /** Gives the lease up; an error doing so is reported, never hiding the error that ended the merger. */
  const releaseLease = async (primary: unknown): Promise<void> => {
    try {
      await lease?.release();
    } catch (e) {
      if (primary === undefined) throw e;
      report(e);
    }
  };
  const publishing = lease ? transport.failover : undefined; // one capability: lease and published merges together
  let endSession: () => void = () => undefined;
  let merger: Merger;
  try {
    endSession = (await transport.prepareMerger?.()) ?? endSession;
    merger = openMergerOn(ctx);
  } catch (e) {
    endSession();
    await releaseLease(e);
    throw e;
  }
  /** Merges committed here and not yet published (published before their deltas are acknowledged). */
  const unpublished: MergeBundle[] = [];
  let tap: ReturnType<typeof createBundleTap> | undefined;
  const lostLease = (): never => {
    throw lease!.lost.reason instanceof Error ? lease!.lost.reason : new FramelogError(`merger lease lost (holder ${lease!.holder}, token ${lease!.token})`, 'lease-lost');
  };
  const all: MergeRecord[] = [];
  /** Landed but not yet merged: inbox name → transport ids to acknowledge once the file has left the inbox. */
  const unacked = new Map<string, string[]>();
  let primary: unknown;
  try {
    if (publishing && lease) {
      const held = lease;
      const sync = await retrying(() => syncWithPublished(ctx, publishing, held));
      if (!sync) return all;
      if (sync.imported > 0 || sync.rewound.length > 0) merger.reload();
      opts.onLease?.({ sync });
      tap = createBundleTap(ctx);
    }
    await transport.recoverMerger?.();
    /** Watch mode: a transport that fails is reported and tried again at the next turn (returns false). */
    const tolerate = async (fn: () => Promise<void>): Promise<boolean> => {
      try {
        await fn();
        return true;
      } catch (e) {
        if (fatal(e)) throw e; // another merger holds the history now, or the store needs a person

        report(e);
        return false;
      }
    };
    const pullAndLand = async (): Promise<void> => {
      const arrivals = await transport.pull();
      if (arrivals.length === 0) return;
      const landed = landDeltas(ctx, arrivals.map((a) => a.bytes));
      landed.forEach((l, i) => {
        const ids = unacked.get(l.name) ?? [];
        ids.push(arrivals[i].id);
        unacked.set(l.name, ids);
      });
    };
    let ackOwed = false;
    const ackTaken = async (): Promise<void> => {
      const lastIndex = unpublished.at(-1)?.index;
      if (publishing && lease && unpublished.length > 0) await publishBundles(publishing, unpublished, lease);
      const done: Array<[string, string[]]> = [];
      for (const [name, ids] of unacked) if (!existsSync(join(ctx.layout.inbox, name))) done.push([name, ids]);
      await transport.ack(done.flatMap(([, ids]) => ids));
      for (const [name] of done) unacked.delete(name);
      if (lastIndex !== undefined) await trimPublished(lastIndex);
    };
    /** Housekeeping after a publication: a failure is reported, and tried again with a later one. */
    let keptFrom = 0;
    const trimPublished = async (lastIndex: number): Promise<void> => {
      const keep = opts.keepPublished;
      if (keep === undefined || !transport.failover) return;
      const from = lastIndex - keep + 1;
      if (from - keptFrom < Math.max(1, Math.floor(keep / 8))) return;
      try {
        await transport.failover.trimMerges(from);
        keptFrom = from;
      } catch (e) {
        report(e);
      }
    };
    const mergeAndAck = async (m: Merger, frames?: number[]): Promise<MergeRecord[]> => {
      if (lease?.lost.aborted) lostLease();
      const records = m.merge({
        through: opts.through, frames, now,
        onCommit: (r) => {
          if (tap) unpublished.push(tap.take(r));
          transport.commitMerge?.(r);
        },
      });
      if (opts.watch) ackOwed = !(await tolerate(ackTaken));
      else await ackTaken();
      for (const r of records) {
        all.push(r);
        opts.onMerge?.(r);
      }
      return records;
    };

    if (!opts.watch) {
      await pullAndLand();
      await mergeAndAck(merger);
      return all;
    }

    const readiness = createFrameReadiness(opts.writers ?? ctx.plan.writers, opts.frameTimeoutMs ?? ctx.plan.frameTimeoutMs);
    const pollMs = opts.pollMs ?? 500;
    const inner = new AbortController();
    let wake: (() => void) | undefined;
    const poke = (): void => wake?.();
    opts.signal?.addEventListener('abort', poke);
    lease?.lost.addEventListener('abort', poke);
    transport.watch(poke, inner.signal);
    try {
      while (!opts.signal?.aborted) {
        if (lease?.lost.aborted) lostLease();
        if (ackOwed) ackOwed = !(await tolerate(ackTaken)); // an acknowledgement that failed earlier
        if (!(await tolerate(pullAndLand))) {
          await new Promise((r) => setTimeout(r, pollMs));
          continue;
        }
        const d = readiness.decide(merger.scan(), merger.state.frame, now(), pollMs);
        if (d.due) {
          const records = await mergeAndAck(merger, d.frames);
          readiness.merged(merger.state.frame, records.length > 0);
          continue;
        }
        merger.flush(); // idle: the journals catch up with the archive
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, d.waitMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      inner.abort();
      opts.signal?.removeEventListener('abort', poke);
      lease?.lost.removeEventListener('abort', poke);
    }
    return all;
  } catch (e) {
    primary = e;
    throw e;
  } finally {
    merger.close();
    endSession();
    await releaseLease(primary);
  }
}
