import type { FramelogError } from '../errors.js';
import type { MergeRecord } from '../merge/records.js';

/** What `put` did with one delta. */
export interface PutOutcome {
  /** The transport's name for the delta: for fs and git, the inbox file name (identity + hash). */
  id: string;
  /** True when this exact copy (same identity, same content hash) was already pending. */
  duplicate: boolean;
}

/** What an acknowledged `put` means for durability, said by every transport. */
export interface TransportDurability {
  /** True when an acknowledged put is on disk (synced) where the transport keeps it; false when a crash of that machine may lose it. */
  onDiskWhenAcknowledged: boolean;
  /** One line for people: when a put is acknowledged, and what can lose it. */
  summary: string;
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
 * (`merger.committed` after each merge is whole) → `ack`, in that order, so a crash anywhere redelivers
 * and landing (named by identity + hash) is idempotent.
 */
export interface Transport {
  readonly name: string;
  /** When `put` resolves, where the deltas are and what could still lose them. */
  readonly durability: TransportDurability;
  /** Writer side: sends deltas as received; resolves once they are durable in the transport. */
  put(deltas: Uint8Array[]): Promise<PutOutcome[]>;
  /** Merger side: claims what is pending and not yet landed (a transport that delivers into the store's own inbox returns nothing). */
  pull(): Promise<Arrival[]>;
  /** Merger side: after a merge round committed, acknowledges the arrivals it took (git publishes the merge commits). */
  ack(ids: string[]): Promise<void>;
  /** Calls `onArrival` whenever new deltas may be pending, until `signal` aborts. */
  watch(onArrival: () => void, signal: AbortSignal): void;
  /**
   * What a transport does around the merges of one merger session (git: its clone's lock,
   * recovery and a commit per merge; Redis and NATS: a fresh consumer session). Absent: nothing.
   */
  readonly merger?: MergerHooks;
  /**
   * Failover across hosts (postgres, redis, nats, kafka): a lease in the transport's own engine and the
   * published merges a merger taking over catches up from. A transport without it relies on
   * the local merger lock (`merger.begin`) and has one merger host.
   */
  readonly failover?: Failover;
  close(): Promise<void>;
}

/** The merger-session capability of a transport: see {@link Transport.merger}. */
export interface MergerHooks {
  /**
   * Before the store is opened for merging: takes the transport's merger lock (git), starts a
   * consumer session (Redis, NATS), repairs the transport's own state after a crash. Returns what
   * ends the session (releases the lock).
   */
  begin(): Promise<() => void>;
  /** Once the store has recovered (the core finished or undid a half merge): commits what the last record covers (git). */
  recovered?(): Promise<void>;
  /** Synchronous, after each merge is whole and before the next starts (git commits "merge frame N" here). */
  committed?(record: MergeRecord): void;
}

/**
 * The failover capability of a transport whose engine is a server shared by many hosts: the
 * merger lease with its fencing token, and the published merges (head, read, trim).
 */
export interface Failover {
  /**
   * Failover across hosts: waits until this merger holds the lease kept in the transport's own
   * engine (PostgreSQL advisory lock, Redis `SET NX PX`, NATS KV key with a TTL), then keeps it
   * renewed until `release`. A transport without it relies on the local merger lock (`merger.begin`).
   */
  acquireLease(options: LeaseOptions): Promise<MergerLease>;
  /**
   * Publishes committed merges, in order, for other hosts (readers, and a merger taking over).
   * Atomic with the fencing check: rejects with {@link FramelogError} code `lease-lost` when
   * `lease.token` is no longer the current holder's token, and code `diverged` when the first
   * merge's `index` is not the published head's index + 1. Publishing nothing is a no-op.
   */
  publishMerges(merges: PublishedMerge[], lease: MergerLease): Promise<void>;
  /** The last published merge, or undefined when none was published. */
  publishedHead(): Promise<PublishedHead | undefined>;
  /**
   * The published merges with `index ≥ fromIndex`, in index order. After {@link trimMerges}, the
   * first one given may come after `fromIndex`: the caller checks.
   */
  readMerges(fromIndex: number): AsyncIterable<PublishedMerge>;
  /**
   * Deletes the published merges with `index < keepFromIndex`, never the head (the last one), and
   * returns how many went. A host whose store is older than the first merge kept can no longer
   * catch up from the transport (`syncWithPublished` stops with code `trimmed`): it is seeded by
   * copying another merger host's store (`copyStore`, `framelog copy`).
   */
  trimMerges(keepFromIndex: number): Promise<number>;
}

/** Options of {@link Failover.acquireLease}. */
export interface LeaseOptions {
  /** Who asks (host, pid, a random suffix): shown to the mergers that wait. */
  holder: string;
  /** How long the lease outlives its holder's last renewal (renewed every `ttlMs / 3`). */
  ttlMs: number;
  /** Stops waiting (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Called now and then while another merger holds the lease. */
  onWait?: (heldBy: string) => void;
}

/** A merger's hold on the right to merge. */
export interface MergerLease {
  /** Fencing token: strictly greater for every new holder; every publication checks it. */
  readonly token: number;
  readonly holder: string;
  /** Aborts (reason: a {@link FramelogError} code `lease-lost`) once a renewal failed or another holder took over. */
  readonly lost: AbortSignal;
  /** Stops renewing and gives the lease up (a no-op when already lost). */
  release(): Promise<void>;
}

/** Where the published merges end. */
export interface PublishedHead {
  /** 1-based position of the merge in the store's history (its line number in `journal/merges.ndjson`). */
  index: number;
  frame: number;
  /** SHA-256 of the merge record's line: the `prev` of the next record. */
  recordSha256: string;
}

/** One merge as published: its place in history, and the bytes a store needs to hold it (`encodeMergeBundle`). */
export interface PublishedMerge extends PublishedHead {
  /** Opaque to the transport: store it and give it back byte for byte. */
  bundle: Uint8Array;
}

/** The transports framelog ships. */
export const TRANSPORT_NAMES = ['fs', 'git', 'postgres', 'redis', 'nats', 'kafka'] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** The transports whose engine is a server shared by many hosts (they take `store` and offer failover). */
export const ENGINE_TRANSPORTS: readonly TransportName[] = ['postgres', 'redis', 'nats', 'kafka'];

/**
 * Where a transport is: its name and URL (fs: the store folder; git: any remote `git` reaches;
 * postgres: `postgres://…`; redis: `redis://…`; nats: `nats://host:port[,nats://…]`; kafka: `kafka://host:port[,host:port…]`), and for the
 * engines the store's name there (everything of the store lives under it).
 */
export interface TransportConfig {
  transport: TransportName;
  url?: string;
  store?: string;
  /**
   * nats and kafka: copies of every stream, bucket and topic of the store. Recorded in the plan by
   * `transport init`, so every merger and writer of the store uses it.
   */
  replicas?: number;
  /**
   * Refuse an engine that can lose what it acknowledges (Redis without `appendfsync always`…):
   * `--require-durable`, or `transport.requireDurable` in the plan. `openTransport` enforces it.
   */
  requireDurable?: boolean;
}
