import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { FramelogError } from '../../errors.js';
import type { StoreContext } from '../../store/storeContext.js';
import type { Merger } from '../../store/openStore.js';
import { syncWithPublished, type SyncOutcome } from '../syncPublished.js';
import type { Failover, MergerLease } from '../transport.js';
import type { MergerRetry } from './mergerRetry.js';

/** What the lease part of a merger is told. */
export interface MergerLeaseOptions {
  holder?: string;
  leaseTtlMs?: number;
  signal?: AbortSignal;
  onLease?: (event: { waiting?: string; acquired?: { token: number; holder: string }; sync?: SyncOutcome }) => void;
}

const defaultHolder = (): string => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/**
 * Waits for the transport's merger lease (retrying an engine that is down, in watch mode); resolves
 * `undefined` when the merger was stopped while another held it.
 */
export async function takeMergerLease(failover: Failover, o: MergerLeaseOptions, retry: MergerRetry): Promise<MergerLease | undefined> {
  const holder = o.holder ?? defaultHolder();
  const lease = await retry.retrying(() => failover.acquireLease({ holder, ttlMs: o.leaseTtlMs ?? 10_000, signal: o.signal, onWait: (waiting) => o.onLease?.({ waiting }) }));
  if (lease) o.onLease?.({ acquired: { token: lease.token, holder: lease.holder } });
  return lease;
}

/**
 * The new holder's first step: bring the local store and the published history together
 * (`syncWithPublished`), reloading the merger when that changed the store. Resolves false when the
 * merger was stopped meanwhile.
 */
export async function syncLeaseHolder(ctx: StoreContext, failover: Failover, lease: MergerLease, merger: Merger, o: MergerLeaseOptions, retry: MergerRetry): Promise<boolean> {
  const sync = await retry.retrying(() => syncWithPublished(ctx, failover, lease));
  if (!sync) return false;
  if (sync.imported > 0 || sync.rewound.length > 0) merger.reload();
  o.onLease?.({ sync });
  return true;
}

/** Gives the lease up; an error doing so is reported, never hiding `primary`, the error that ended the merger. */
export async function releaseMergerLease(lease: MergerLease | undefined, primary: unknown, retry: MergerRetry): Promise<void> {
  try {
    await lease?.release();
  } catch (e) {
    if (primary === undefined) throw e;
    retry.report(e);
  }
}

/** Throws why the lease was lost. */
export function throwLeaseLost(lease: MergerLease): never {
  throw lease.lost.reason instanceof Error ? lease.lost.reason : new FramelogError(`merger lease lost (holder ${lease.holder}, token ${lease.token})`, 'lease-lost');
}
