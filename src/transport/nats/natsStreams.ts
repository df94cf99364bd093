import { JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { FramelogError } from '../../errors.js';
import type { NatsNames } from './natsNames.js';

/** JetStream API error codes the transport tells apart. */
export const JS_CODES = {
  streamNotFound: 10059,
  consumerNotFound: 10014,
  wrongLastSequence: 10071,
  noMessageFound: 10037,
} as const;

/** The JetStream API error code of `e`, or undefined when `e` is no JetStream API error. */
export function jsErrorCode(e: unknown): number | undefined {
  return e instanceof JetStreamApiError ? e.code : undefined;
}

/**
 * True for a failure that a leader election or a reconnect explains and that asking again later
 * may not see: no responders (no stream leader right now), timeouts, a connection lost mid-request,
 * and JetStream's "temporarily unavailable" (10008). Refusals of the request itself (a JetStream API
 * error such as a wrong last sequence, any FramelogError) are not.
 */
export function isTransientNatsError(e: unknown): boolean {
  if (e instanceof JetStreamApiError) return e.code === 10008 || e.status === 503;
  if (e instanceof FramelogError) return false;
  return e instanceof Error;
}

/** Returns the stream's info, creating it with `config` when it is missing (another process creating it at the same time is fine). */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  try {
    return await jsm.streams.info(config.name);
  } catch (e) {
    if (jsErrorCode(e) !== JS_CODES.streamNotFound) throw e;
  }
  try {
    return await jsm.streams.add(config);
  } catch (e) {
    // Created by another process between the two calls: use theirs.
    try {
      return await jsm.streams.info(config.name);
    } catch {
      throw e;
    }
  }
}

/**
 * Creates the store's two streams when missing: the deltas (WorkQueue retention: a message leaves
 * once the merger acknowledged it; file storage; `replicas` copies; the server's default duplicate
 * window of 2 minutes for `Nats-Msg-Id`, or `duplicateWindowMs`) and the published merges (Limits retention without
 * limits: kept until `trimMerges` purges the oldest; deleting single messages denied). An existing
 * stream is used as it is.
 */
export async function ensureNatsStreams(jsm: JetStreamManager, names: NatsNames, replicas: number, duplicateWindowMs?: number): Promise<{ deltas: StreamInfo; merges: StreamInfo }> {
  const deltas = await ensureStream(jsm, {
    name: names.deltasStream,
    subjects: [names.deltasSubjects],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    ...(duplicateWindowMs === undefined ? {} : { duplicate_window: nanos(duplicateWindowMs) }),
  });
  const merges = await ensureStream(jsm, {
    name: names.mergesStream,
    subjects: [names.mergesSubject, names.partsSubject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    deny_delete: true,
    // Purges stay allowed: trimMerges drops the oldest merges with one (NATS cannot allow them later).
    deny_purge: false,
  });
  // Streams made with fewer copies than the store now records (before it recorded any) get them.
  for (const info of [deltas, merges]) if ((info.config.num_replicas ?? 1) < replicas) await ensureReplicas(jsm, info.config.name, replicas);
  return { deltas, merges };
}

/**
 * Gives stream `name` at least `want` replicas: a stream another process created with fewer (a
 * store set up before its replica count was recorded, a lease bucket made by a merger that was
 * told nothing) is scaled up, never down. Returns the replica count it has now. Throws naming
 * both counts when the server refuses (a single server cannot hold 3 copies).
 */
export async function ensureReplicas(jsm: JetStreamManager, name: string, want: number): Promise<number> {
  const info = await jsm.streams.info(name);
  const had = info.config.num_replicas ?? 1;
  if (had >= want) return had;
  try {
    await jsm.streams.update(name, { ...info.config, num_replicas: want });
  } catch (e) {
    throw new FramelogError(`nats stream ${name} has ${had} replica${had === 1 ? '' : 's'}, the store wants ${want}; the server refused to add them: ${(e as Error).message}`, 'nats-setup-failed');
  }
  return want;
}

/** Removes everything of one store from the NATS account: both streams and the lease bucket (tests, benches). Missing pieces are fine. */
export async function deleteNatsStore(jsm: JetStreamManager, names: NatsNames): Promise<void> {
  for (const stream of [names.deltasStream, names.mergesStream, names.leaseStream]) {
    try {
      await jsm.streams.delete(stream);
    } catch (e) {
      if (jsErrorCode(e) !== JS_CODES.streamNotFound) throw e;
    }
  }
}
