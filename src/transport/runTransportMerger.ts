import { FramelogError } from '../errors.js';
import type { MergeRecord } from '../merge/records.js';
import { openMergerOn, type Merger } from '../store/openStore.js';
import type { StoreContext } from '../store/storeContext.js';
import { createMergerPipeline, createMergerRetry, releaseMergerLease, syncLeaseHolder, takeMergerLease, watchMergerLoop } from './merger/index.js';
import type { SyncOutcome } from './syncPublished.js';
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

/**
 * The merger of every transport: `pull` → land in the inbox (`landDeltas`, named by identity +
 * hash, so landing again is a no-op) → merge, with the transport's `merger.committed` after each merge
 * is whole → `ack` what the merges took. A crash anywhere redelivers, and nothing is applied twice
 * (a redelivered copy of an applied identity is archived as a duplicate). Before the first merge,
 * the transport repairs its own state, the core finishes or undoes a half merge, and the transport
 * commits what the last record covers. Returns the merge records written.
 *
 * Composed of three parts (`transport/merger/`): the lease (with failover: take it, sync with the
 * published history, release it), the pipeline (pull, land, merge, publish, acknowledge, trim),
 * and the loop (`--watch`); one retry policy says what a merger survives.
 */
export async function runTransportMerger(ctx: StoreContext, transport: Transport, opts: TransportMergerOptions = {}): Promise<MergeRecord[]> {
  const now = opts.now ?? Date.now;
  const pollMs = opts.pollMs ?? 500;
  if (opts.keepPublished !== undefined && !(Number.isSafeInteger(opts.keepPublished) && opts.keepPublished >= 1)) {
    throw new FramelogError(`keepPublished must be a whole number ≥ 1 (got ${opts.keepPublished})`, 'bad-argument');
  }
  const report = opts.onTransportError ?? ((err: unknown) => process.stderr.write(`framelog: ${transport.name}: ${(err as Error).message} (retrying)\n`));
  const retry = createMergerRetry({ watch: opts.watch === true, signal: opts.signal, pollMs, report });

  const records: MergeRecord[] = [];
  const session = { ctx, transport, opts, retry, now, pollMs, records };
  if (!transport.failover) return runSession(session, undefined);
  // With failover, a watch merger that loses its lease (an engine outage longer than the TTL,
  // a stall) says so and waits to take it again, then syncs and merges on; only what no retry can
  // cure ends it. A one-shot merge reports the loss.
  for (;;) {
    const lease = await takeMergerLease(transport.failover, opts, retry);
    if (!lease) return records; // stopped while another merger held the lease
    try {
      return await runSession(session, lease);
    } catch (e) {
      if (!opts.watch || opts.signal?.aborted || !(e instanceof FramelogError) || e.code !== 'lease-lost') throw e;
      report(new FramelogError(`${e.message}; waiting to take the lease again`, 'lease-lost'));
    }
  }
}

interface Session {
  ctx: StoreContext;
  transport: Transport;
  opts: TransportMergerOptions;
  retry: ReturnType<typeof createMergerRetry>;
  now: () => number;
  pollMs: number;
  /** Every record written, across the sessions of one run. */
  records: MergeRecord[];
}

/** One merger session: with `lease` (failover) or without; ends with the watch loop, the one-shot merge, or an error. */
async function runSession(s: Session, lease: MergerLease | undefined): Promise<MergeRecord[]> {
  const { ctx, transport, opts, retry, now, pollMs } = s;
  let endSession: () => void = () => undefined;
  let merger: Merger;
  try {
    endSession = (await transport.merger?.begin()) ?? endSession;
    merger = openMergerOn(ctx);
  } catch (e) {
    endSession();
    await releaseMergerLease(lease, e, retry);
    throw e;
  }
  let primary: unknown;
  try {
    if (lease && !(await syncLeaseHolder(ctx, transport.failover!, lease, merger, opts, retry))) return s.records;
    await transport.merger?.recovered?.();
    const onMerge = (r: MergeRecord): void => {
      s.records.push(r);
      opts.onMerge?.(r);
    };
    const pipeline = createMergerPipeline(ctx, transport, merger, lease, { through: opts.through, watch: opts.watch === true, now, keepPublished: opts.keepPublished, onMerge }, retry);
    if (opts.watch) {
      await watchMergerLoop(ctx, transport, merger, pipeline, lease, { signal: opts.signal, writers: opts.writers, frameTimeoutMs: opts.frameTimeoutMs, pollMs, now }, retry);
    } else {
      await pipeline.pullAndLand();
      await pipeline.mergeAndAck();
    }
    return s.records;
  } catch (e) {
    primary = e;
    throw e;
  } finally {
    merger.close();
    endSession();
    await releaseMergerLease(lease, primary, retry);
  }
}
