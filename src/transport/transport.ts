import type { MergeRecord } from '../merge/records.js';

/** What `put` did with one delta. */
export interface PutOutcome {
  /** The transport's name for the delta: for fs and git, the inbox file name (identity + hash). */
  id: string;
  /** True when this exact copy (same identity, same content hash) was already pending. */
  duplicate: boolean;
}

/** One delta a merger claimed from a transport: its bytes exactly as they were put. */
export interface Arrival {
  /** The transport's handle for acknowledging it. */
  id: string;
  bytes: Uint8Array;
}

/**
 * How deltas travel from writers to the one merger (PROTOCOL: the protocol never changes with the
 * transport). Every transport keeps a delta exactly as received, bad ones included (the merger
 * quarantines them with their reason), and dedups by identity + content hash only: a copy whose
 * identity it has seen with other content is never dropped, so the merger records the conflict.
 *
 * The merger side runs {@link runTransportMerger}: `pull` → land in the store's inbox → merge
 * (`commitMerge` after each merge is whole) → `ack`, in that order, so a crash anywhere redelivers
 * and landing (named by identity + hash) is idempotent.
 */
export interface Transport {
  readonly name: string;
  /** Writer side: sends deltas as received; resolves once they are durable in the transport. */
  put(deltas: Uint8Array[]): Promise<PutOutcome[]>;
  /** Merger side: claims what is pending and not yet landed (a transport that delivers into the store's own inbox returns nothing). */
  pull(): Promise<Arrival[]>;
  /** Merger side, synchronous: called after each merge is whole, before the next starts (git commits "merge frame N" here). */
  commitMerge?(record: MergeRecord): void;
  /** Merger side: after a merge round committed, acknowledges the arrivals it took (git publishes the merge commits). */
  ack(ids: string[]): Promise<void>;
  /** Calls `onArrival` whenever new deltas may be pending, until `signal` aborts. */
  watch(onArrival: () => void, signal: AbortSignal): void;
  /**
   * Merger side: takes the transport's merger lock and repairs its own state after a crash, before
   * the store is opened for merging; returns what ends the session (releases the lock).
   */
  prepareMerger?(): Promise<() => void>;
  /** Merger side: runs once the store has recovered (the core finished or undid a half merge): commits what the last record covers. */
  recoverMerger?(): Promise<void>;
  close(): Promise<void>;
}

/** The transports framelog ships. */
export const TRANSPORT_NAMES = ['fs', 'git'] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** Where a transport is: its name and URL (fs: the store folder; git: any remote `git` reaches). */
export interface TransportConfig {
  transport: TransportName;
  url?: string;
}
