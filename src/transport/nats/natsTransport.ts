import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { FramelogError } from '../../errors.js';
import type { Transport, Failover } from '../transport.js';
import { acquireNatsLease } from './natsLease.js';
import { startMergerSession, type MergerSession } from './natsMergerSession.js';
import { natsMarkTakeover, natsPublishedHead, natsPublishMerges, natsReadMerges, natsTrimMerges, type MergesContext } from './natsMerges.js';
import { natsNames, type NatsNames } from './natsNames.js';
import { checkDeltaSizes, publishDeltas } from './natsPut.js';
import { deleteNatsStore, ensureNatsStreams } from './natsStreams.js';

/** Options of {@link openNatsTransport}. */
export interface NatsTransportOptions {
  /** One server URL or several, comma-separated (`nats://a:4222,nats://b:4222`): the client fails over between them. */
  url: string;
  /** The store's name in the account: letters, digits, `_` and `-`. */
  store: string;
  /** Copies of each stream and of the lease bucket when this call creates them (default 1; 3 on a cluster). */
  replicas?: number;
  /** The server delivers a delta the merger took again this long after, when it was not acknowledged (default 60 s). */
  ackWaitMs?: number;
  /** Deltas per pull request (default 5000). */
  pullBatch?: number;
  /** Bytes per pull request (default 64 MiB). */
  pullMaxBytes?: number;
  /** How long a PubAck, a pull or an acknowledgement may take (default 10 s). */
  timeoutMs?: number;
  /** Attempts per delta when the stream does not answer, e.g. during a leader election (default 5; the `Nats-Msg-Id` makes repeats harmless). */
  publishAttempts?: number;
  /**
   * The deltas stream's duplicate window when this call creates it (default: the server's, 2
   * minutes): a copy of a key put within it is absorbed by the server, even after the merger took the first.
   */
  duplicateWindowMs?: number;
  /** The connection's name, shown by the server's monitoring. */
  name?: string;
}

/** The NATS JetStream transport, with what tests and tools need besides the Transport. */
export interface NatsTransport extends Transport {
  readonly names: NatsNames;
  /** Failover is always available: the lease and the published merges. */
  readonly failover: Failover;
  readonly connection: NatsConnection;
  /** The largest message the server takes (its `max_payload`): a delta plus its ~100 bytes of headers must fit. */
  maxPayload(): number;
  /** Removes the store's streams and lease bucket (tests, benches); the transport stays open. */
  destroy(): Promise<void>;
}

/** Splits the URL option into the servers the client may use. */
export function natsServers(url: string): string[] {
  const servers = url.split(',').map((s) => s.trim()).filter(Boolean);
  if (servers.length === 0) throw new FramelogError(`nats transport: url ${JSON.stringify(url)} names no server (want nats://host:port[,nats://host:port…])`, 'bad-argument');
  return servers;
}

/**
 * Opens the NATS JetStream transport of `store` (creating its streams when missing).
 *
 * - **put** publishes each delta, as received, on `framelog.<store>.deltas.<frame>.<writer>` with
 *   `Nats-Msg-Id` = its transport key; all deltas of one call at once, and resolves once every
 *   PubAck came: the stream stored the message (with replicas, a quorum of them did). A PubAck
 *   marked duplicate (the server already took that key within its duplicate window, 2 minutes by
 *   default) gives `duplicate: true` — also when the first copy was merged and acknowledged in that
 *   window (unlike the filesystem inbox, which stores such a copy again for the merger to record as
 *   a duplicate). Durability: the file store writes each message before the PubAck but fsyncs on an
 *   interval (2 minutes by default; `sync_interval`, `always` included, can be set from
 *   nats-server 2.10 — 2.9 does not know it): a process crash loses nothing, a power loss of every
 *   replica at once can lose acknowledged deltas. Deltas over `max_payload` less their headers are
 *   refused (FramelogError `too-large`) before anything of the call is sent.
 * - **pull** (merger) reads through a consumer created afresh for each merger session
 *   ({@link startMergerSession}); ids are stream sequences. **ack** acknowledges each with a
 *   confirmed ack (`+ACK` request), after which the WorkQueue stream drops the message.
 * - **watch** is a core subscription on the deltas' subjects.
 * - **failover** (lease, published merges): see natsLease.ts and natsMerges.ts.
 */
export async function openNatsTransport(o: NatsTransportOptions): Promise<NatsTransport> {
  const names = natsNames(o.store);
  const servers = natsServers(o.url);
  const replicas = o.replicas ?? 1;
  if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > 5) throw new FramelogError(`nats transport: replicas ${replicas} must be 1 to 5`, 'bad-argument');
  const timeoutMs = o.timeoutMs ?? 10_000;
  let nc: NatsConnection;
  try {
    // noAsyncTraces: the client would capture two stack traces per request (half its CPU on a put);
    // the transport's errors name what failed and where themselves.
    nc = await connect({ servers, name: o.name ?? `framelog ${o.store}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: timeoutMs, noAsyncTraces: true });
  } catch (e) {
    throw new FramelogError(`nats transport: cannot connect to ${o.url}: ${(e as Error).message}`, 'nats-unreachable');
  }
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  try {
    js = jetstream(nc, { timeout: timeoutMs });
    jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    await ensureNatsStreams(jsm, names, replicas, o.duplicateWindowMs);
  } catch (e) {
    await nc.close();
    throw new FramelogError(`nats transport: cannot set up store ${o.store} on ${o.url}: ${(e as Error).message}`, 'nats-setup-failed');
  }
  const maxPayload = (): number => nc.info?.max_payload ?? 1024 * 1024;
  const merges: MergesContext = { nc, js, jsm, names, maxPayload, timeoutMs };
  let session: MergerSession | undefined;
  const newSession = async (): Promise<MergerSession> => {
    session = await startMergerSession(nc, jsm, names, { ackWaitMs: o.ackWaitMs ?? 60_000, batch: o.pullBatch ?? 5000, maxBytes: o.pullMaxBytes ?? 64 * 1024 * 1024, timeoutMs });
    return session;
  };
  let closing: Promise<void> | undefined;

  return {
    name: 'nats',
    names,
    durability: {
      onDiskWhenAcknowledged: false,
      summary: 'a put is acknowledged once JetStream stored it (with replicas, a quorum did); the file store fsyncs on an interval (sync_interval, 2 min by default), so a power loss of every replica at once can lose acknowledged deltas, a process crash loses nothing',
    },
    connection: nc,
    maxPayload,
    async put(deltas) {
      const known = checkDeltaSizes(maxPayload(), deltas);
      return publishDeltas(js, names, deltas, known, { timeoutMs, attempts: o.publishAttempts ?? 5 });
    },
    merger: {
      async begin() {
        await newSession();
        return () => {
          session = undefined;
        };
      },
    },
    async pull() {
      const current = session ?? (await newSession());
      try {
        return await current.pull();
      } catch (e) {
        // A pull that failed (no answer during a leader election) may have had deltas delivered to
        // it that nobody received: the consumer would give them again only after the ack wait
        // (60 s). The next pull starts a fresh session, which delivers every unacknowledged delta at once.
        if (session === current) session = undefined;
        throw e;
      }
    },
    async ack(ids) {
      await session?.ack(ids);
    },
    watch(onArrival, signal) {
      if (signal.aborted) return;
      const sub = nc.subscribe(names.deltasSubjects, { callback: () => onArrival() });
      signal.addEventListener('abort', () => sub.unsubscribe(), { once: true });
    },
    failover: {
      async acquireLease(lo) {
        const lease = await acquireNatsLease(nc, jsm, names, replicas, lo);
        try {
          await natsMarkTakeover(merges, lease);
        } catch (e) {
          // Not marked, not held: give the lease up, and report both failures if that fails too.
          await lease.release().catch((r: unknown) => {
            throw new FramelogError(`nats lease: marking the takeover failed (${(e as Error).message}), then releasing the lease failed too (${(r as Error).message})`, 'nats-unreachable');
          });
          throw e;
        }
        return lease;
      },
      publishMerges: (list, lease) => natsPublishMerges(merges, list, lease),
      publishedHead: () => natsPublishedHead(merges),
      readMerges: (fromIndex) => natsReadMerges(merges, fromIndex),
      trimMerges: (keepFromIndex) => natsTrimMerges(merges, keepFromIndex),
    },
    destroy: () => deleteNatsStore(jsm, names),
    close() {
      closing ??= nc.isClosed() ? Promise.resolve() : nc.close();
      return closing;
    },
  };
}
