import { StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { FramelogError } from '../../errors.js';
import type { LeaseOptions, MergerLease } from '../transport.js';
import { LEASE_KEY, type NatsNames } from './natsNames.js';
import { ensureReplicas, isTransientNatsError, JS_CODES, jsErrorCode } from './natsStreams.js';
import { abortableSleep as sleep } from '../abortableSleep.js';
import { holdRenewingLease } from '../holdRenewingLease.js';

/** What the lease key holds: who, and the fencing token (0 for the moment between `create` and the first `update`). */
interface LeaseValue {
  holder: string;
  token: number;
}

const encodeValue = (v: LeaseValue): Uint8Array => Buffer.from(JSON.stringify(v));

/** The holder and token a lease entry names (a value that is no lease value names its raw text). */
export function leaseValueOf(e: KvEntry): LeaseValue {
  try {
    const v = JSON.parse(e.string()) as Partial<LeaseValue>;
    if (typeof v.holder === 'string' && typeof v.token === 'number') return { holder: v.holder, token: v.token };
  } catch {
    // not ours: shown as it is
  }
  return { holder: e.string(), token: -1 };
}


/**
 * Opens the lease bucket, creating it when missing: history 1, the bucket's TTL (the stream's
 * `max_age`) = `ttlMs`, file storage, `replicas` copies, and no direct gets (every read is served by
 * the stream leader, never by a replica that may lag).
 */
export async function openLeaseBucket(nc: NatsConnection, names: NatsNames, ttlMs: number, replicas: number): Promise<KV> {
  return new Kvm(nc).create(names.leaseBucket, { ttl: ttlMs, history: 1, replicas, storage: StorageType.File, allow_direct: false });
}

/** Makes the bucket's TTL `ttlMs` when another merger created it with another one (called by the holder only). */
async function setBucketTtl(jsm: JetStreamManager, names: NatsNames, ttlMs: number): Promise<void> {
  const info = await jsm.streams.info(names.leaseStream);
  const maxAge = nanos(ttlMs);
  if (info.config.max_age === maxAge) return;
  await jsm.streams.update(names.leaseStream, { ...info.config, max_age: maxAge, duplicate_window: Math.min(maxAge, nanos(120_000)) });
}

/**
 * Takes the merger lease of a store, then keeps it. `kv.create` succeeds only while the key is
 * absent, deleted or expired (the bucket's TTL removes a value `ttlMs` after it was written); its
 * revision — a stream sequence, increasing for the whole life of the bucket — is the fencing token,
 * written into the value at once (`kv.update` on that revision) so that publishers can check holder
 * and token. While another merger holds it, tries again every `ttlMs / 4`, calling `onWait`;
 * failures a leader election or a reconnect explains (no responders, timeouts) are waited out the
 * same way, up to 30 s or ten TTLs in a row (then FramelogError `nats-unreachable`).
 *
 * Held, it is renewed every `ttlMs / 3` by `kv.update` on the last revision (a compare-and-set: a
 * renewal fails once anyone else wrote the key). A renewal that finds another revision aborts `lost`
 * at once; one that fails otherwise (a timeout during a leader election) is tried again soon, and
 * `lost` aborts when no renewal was confirmed by `sent + ttlMs - margin` (margin: a tenth of the
 * TTL, at most 1 s), before the server can expire the key. `release` deletes the key on the last
 * revision (doing nothing when someone else wrote it since); a delete failing for a leader election
 * is tried again until the key has expired by itself.
 */
export async function acquireNatsLease(nc: NatsConnection, jsm: JetStreamManager, names: NatsNames, replicas: number, o: LeaseOptions): Promise<MergerLease> {
  if (typeof o.holder !== 'string' || o.holder.length === 0) throw new FramelogError('nats lease: holder must be a non-empty string', 'bad-argument');
  if (!Number.isSafeInteger(o.ttlMs) || o.ttlMs < 100) throw new FramelogError(`nats lease: ttlMs ${o.ttlMs} must be a whole number of milliseconds ≥ 100`, 'bad-argument');
  const pollMs = Math.max(25, Math.floor(o.ttlMs / 4));
  const patienceMs = Math.max(30_000, 10 * o.ttlMs);
  let troubleSince: number | undefined;
  /** A failure a leader election or a reconnect explains is waited out (up to `patienceMs` in a row); any other is thrown. */
  const endure = (e: unknown): void => {
    if (!isTransientNatsError(e)) throw e;
    troubleSince ??= Date.now();
    if (Date.now() - troubleSince > patienceMs) throw new FramelogError(`nats lease ${names.leaseBucket}: the server kept failing for ${patienceMs} ms while this merger waited (last: ${(e as Error).message})`, 'nats-unreachable');
  };
  let kv: KV | undefined;
  for (;;) {
    if (o.signal?.aborted) throw o.signal.reason;
    try {
      if (!kv) {
        kv = await openLeaseBucket(nc, names, o.ttlMs, replicas);
        // A bucket another merger made with fewer copies than the store's streams hold (told no
        // replica count, before the store recorded one) would stop all merging when its one node
        // goes: it gets as many as the deltas stream, or the store's count when that is more.
        const streams = (await jsm.streams.info(names.deltasStream)).config.num_replicas ?? 1;
        await ensureReplicas(jsm, names.leaseStream, Math.max(replicas, streams));
      }
      const sentAt = Date.now();
      let created: number | undefined;
      try {
        created = await kv.create(LEASE_KEY, encodeValue({ holder: o.holder, token: 0 }));
      } catch (e) {
        if (jsErrorCode(e) !== JS_CODES.wrongLastSequence) throw e;
      }
      if (created !== undefined) {
        try {
          const revision = await kv.update(LEASE_KEY, encodeValue({ holder: o.holder, token: created }), created);
          await setBucketTtl(jsm, names, o.ttlMs);
          return holdNatsLease(kv, names, o.holder, created, revision, o.ttlMs, sentAt);
        } catch (e) {
          if (jsErrorCode(e) !== JS_CODES.wrongLastSequence) throw e;
          // Someone wrote the key between our create and update (it expired meanwhile): ask again.
        }
      } else {
        const e = await kv.get(LEASE_KEY);
        if (e && e.operation === 'PUT') o.onWait?.(leaseValueOf(e).holder);
      }
      troubleSince = undefined;
    } catch (e) {
      endure(e);
    }
    await sleep(pollMs, o.signal);
  }
}

/** Keeps an acquired lease renewed (`kv.update` on the last revision) until it is released or lost. */
function holdNatsLease(kv: KV, names: NatsNames, holder: string, token: number, revision: number, ttlMs: number, sentAt: number): MergerLease {
  const value = encodeValue({ holder, token });
  let last = revision;
  let confirmedAt = sentAt;
  return holdRenewingLease(
    {
      token,
      holder,
      name: `nats lease ${names.leaseBucket}/${LEASE_KEY} (holder ${holder}, token ${token})`,
      renewEveryMs: Math.max(10, Math.floor(ttlMs / 3)),
      retryEveryMs: Math.max(10, Math.floor(ttlMs / 10)),
      confirmWithinMs: ttlMs - Math.min(1000, Math.floor(ttlMs / 10)),
      acquiredAt: sentAt,
    },
    {
      async renew() {
        const sent = Date.now();
        try {
          last = await kv.update(LEASE_KEY, value, last, Math.max(50, Math.floor(ttlMs / 3)));
        } catch (e) {
          if (jsErrorCode(e) === JS_CODES.wrongLastSequence) return `the key changed under it (${(e as Error).message}): it expired or another merger took it`;
          throw e;
        }
        confirmedAt = sent;
        return undefined;
      },
      retryable: () => true, // a timeout during a leader election: tried again soon, until the deadline
      async release() {
        // A failure a leader election explains is tried again until the key expires by itself (then it is given up anyway).
        const expiresBy = confirmedAt + ttlMs;
        for (;;) {
          try {
            await kv.delete(LEASE_KEY, { previousSeq: last });
            return;
          } catch (e) {
            if (jsErrorCode(e) === JS_CODES.wrongLastSequence) return; // someone else wrote it since: not ours to delete
            if (!isTransientNatsError(e)) throw e;
            if (Date.now() >= expiresBy) return; // the server has let it expire: given up
            await sleep(Math.min(250, Math.max(10, expiresBy - Date.now())));
          }
        }
      },
    },
  );
}

/**
 * The fencing check of a publication: throws FramelogError `lease-lost` unless the lease key names
 * `lease.holder` with `lease.token` right now (read from the stream leader).
 */
export async function checkNatsLease(nc: NatsConnection, names: NatsNames, lease: MergerLease): Promise<void> {
  const fail = (why: string): never => {
    throw new FramelogError(`nats publish merges: lease of ${names.store} — ${why}; this merger (${lease.holder}, token ${lease.token}) must not publish`, 'lease-lost');
  };
  if (lease.lost.aborted) fail('this merger lost it');
  const kv = await new Kvm(nc).open(names.leaseBucket, { allow_direct: false });
  let e: KvEntry | null = null;
  try {
    e = await kv.get(LEASE_KEY);
  } catch (err) {
    if (jsErrorCode(err) === JS_CODES.streamNotFound) fail('no lease bucket exists');
    throw err;
  }
  if (!e || e.operation !== 'PUT') fail('no merger holds it');
  const v = leaseValueOf(e!);
  if (v.holder !== lease.holder || v.token !== lease.token) fail(`it is held by ${v.holder} with token ${v.token}`);
}
