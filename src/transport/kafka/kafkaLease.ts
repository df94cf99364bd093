import type { Admin, Kafka, Producer, Transaction } from 'kafkajs';
import { FramelogError } from '../../errors.js';
import { abortableSleep as sleep } from '../abortableSleep.js';
import { holdRenewingLease } from '../holdRenewingLease.js';
import type { LeaseOptions, MergerLease } from '../transport.js';
import { abandon, createProducer, disconnect, inTransaction, isFenced, kafkaErrorText, TRANSACTION_TIMEOUT_MS, withTimeout } from './kafkaClient.js';
import type { KafkaNames } from './kafkaNames.js';
import { lastRecord } from './kafkaRead.js';

/** A lease record: who holds it, with which token, when it was last renewed, for how long. */
interface LeaseRecord {
  holder: string;
  token: number;
  at: number;
  ttlMs: number;
  released?: true;
}

/** A held Kafka lease, with the transactional producer whose epoch fences the holders before it. */
export interface KafkaLease extends MergerLease {
  /** Publishes and acknowledgements go through this producer: a fenced one cannot commit. */
  readonly producer: Producer;
  /** Ends the lease at once (a publication or an acknowledgement found the producer fenced). */
  lose(why: string): void;
}

/** Who a contender waits for when the lease topic has a transaction open and no live holder on record yet. */
export const OPEN_TRANSACTION = '(a merger writing the lease)';

/** What a lease loses to when a commit of its producer was refused: a newer holder. */
export const FENCED = 'a newer merger fenced this one (its producer epoch is higher)';

/** The last committed lease record, and whether a transaction on the lease topic was still open past it. */
async function readLease(kafka: Kafka, admin: Admin, names: KafkaNames, toEnd = false): Promise<{ record: LeaseRecord | undefined; open: boolean }> {
  const cutShort = { value: false };
  const m = await lastRecord(kafka, admin, names.lease, { toEnd, cutShort });
  if (!m?.value) return { record: undefined, open: cutShort.value };
  try {
    return { record: JSON.parse(m.value.toString('utf8')) as LeaseRecord, open: cutShort.value };
  } catch {
    return { record: undefined, open: cutShort.value }; // not ours: read as free
  }
}

/** Writes a lease record in a transaction of `producer` (fails when a newer producer fenced it). */
async function writeLease(producer: Producer, names: KafkaNames, r: LeaseRecord): Promise<void> {
  await inTransaction(producer, `renewing the lease on ${names.lease}`, async (txn) => {
    await txn.send({ topic: names.lease, acks: -1, messages: [{ key: 'lease', value: JSON.stringify(r) }] });
  }, Math.min(TRANSACTION_TIMEOUT_MS, r.ttlMs));
}

/**
 * The Kafka merger lease. The lease topic (one partition, compacted) holds the holder's heartbeats;
 * a contender that finds it free (none, released, or not renewed within its TTL, and no transaction
 * open on the topic: a holder taking or renewing it, whose record is not readable yet) creates the
 * mergers' transactional producer (the fixed transactional id `names.transactionalId`): the broker
 * bumps the id's epoch, which fences every earlier holder's producer — a stale holder can no longer
 * commit a publication or an acknowledgement. It reads the lease again (a holder that committed
 * between the first read and the bump is fenced now, but believes it holds until its next renewal:
 * the contender backs off until that record expires), then commits its own lease record. Of two
 * racing contenders at most one commits: a commit before the other's bump is seen by its second
 * read; a commit after it is refused. The token is the producer's (id, epoch), strictly greater
 * for every new holder: one more than the last record's, which the winner's second read saw.
 * Renewals are transactional writes too, so a fenced holder learns within `ttlMs / 3`.
 *
 * The TTL is measured on each merger's own clock against the `at` the holder wrote: mergers on
 * hosts whose clocks differ by more than a fraction of the TTL may take over early; fencing keeps
 * that safe (the earlier holder's commits fail) but not quiet.
 */
export async function acquireKafkaLease(kafka: Kafka, admin: Admin, names: KafkaNames, o: LeaseOptions): Promise<KafkaLease> {
  if (typeof o.holder !== 'string' || o.holder.length === 0) throw new FramelogError('kafka lease: holder must be a non-empty string', 'bad-argument');
  if (!Number.isSafeInteger(o.ttlMs) || o.ttlMs < 300) throw new FramelogError(`kafka lease: ttlMs ${o.ttlMs} must be a whole number of milliseconds ≥ 300`, 'bad-argument');
  let openSince: number | undefined;
  for (;;) {
    if (o.signal?.aborted) throw o.signal.reason;
    const { record: current, open } = await readLease(kafka, admin, names);
    const now = Date.now();
    if (current && !current.released && now <= current.at + current.ttlMs) {
      openSince = undefined;
      o.onWait?.(current.holder);
      await sleep(Math.max(50, Math.min(Math.floor(o.ttlMs / 8), current.at + current.ttlMs - now + 10)), o.signal);
      continue;
    }
    // Free as far as the committed records go, but a transaction on the lease topic is open: a
    // holder renewing, or a contender taking it. Bumping the epoch now would fence a live holder
    // whose renewal our read could not see yet: wait for that transaction to end, for one TTL at
    // most (a merger that died inside one leaves it open until the broker times it out; our bump
    // aborts it).
    if (open) {
      openSince ??= now;
      if (now - openSince < Math.max(current?.ttlMs ?? 0, o.ttlMs)) {
        o.onWait?.(current?.holder ?? OPEN_TRANSACTION);
        await sleep(Math.max(50, Math.floor(o.ttlMs / 16)), o.signal);
        continue;
      }
    }
    openSince = undefined;
    const producer = await createProducer(kafka, names.transactionalId);
    let txn: Transaction | undefined;
    try {
      // The epoch bump that fences the holders before: the client sends the transactional
      // InitProducerId at the first transaction, not when it connects.
      txn = await withTimeout(producer.transaction(), TRANSACTION_TIMEOUT_MS, `taking the lease on ${names.lease}`);
      // A holder whose record was committed between our read and our epoch bump is fenced now, but
      // believes it holds until its next renewal: back off, and take over once its record expires.
      // (Its commit came before our bump; a commit after it would have failed. So at most one of
      // two racing contenders both commits and reads its own record back.) Read to the end: a
      // commit that returned just before our bump may not be readable yet (its markers follow).
      const again = (await readLease(kafka, admin, names, true)).record;
      if (again && !again.released && Date.now() <= again.at + again.ttlMs && (!current || again.token !== current.token || again.at !== current.at)) {
        await abandon(txn);
        await disconnect(producer);
        continue;
      }
      const token = Math.max(current?.token ?? 0, again?.token ?? 0) + 1;
      // The record's time is taken now, after the epoch bump and the second read: the bump can
      // take seconds (the coordinator first aborts a dead holder's open transaction), and a record
      // stamped before that could be expired on arrival, free for the next contender at once.
      const sentAt = Date.now();
      const mine: LeaseRecord = { holder: o.holder, token, at: sentAt, ttlMs: o.ttlMs };
      // Refused when a contender bumped the epoch after us (caught below: we wait).
      const t = txn;
      await withTimeout((async () => {
        await t.send({ topic: names.lease, acks: -1, messages: [{ key: 'lease', value: JSON.stringify(mine) }] });
        await t.commit();
      })(), TRANSACTION_TIMEOUT_MS, `taking the lease on ${names.lease}`);
      return holdKafkaLease(producer, names, mine, sentAt);
    } catch (e) {
      await abandon(txn);
      await disconnect(producer);
      if (isFenced(e)) continue; // a contender initialised after us
      throw e;
    }
  }
}

function holdKafkaLease(producer: Producer, names: KafkaNames, r: LeaseRecord, acquiredAt: number): KafkaLease {
  const lease = holdRenewingLease(
    { token: r.token, holder: r.holder, name: `kafka lease ${names.lease} (token ${r.token})`, renewEveryMs: Math.max(50, Math.floor(r.ttlMs / 3)), confirmWithinMs: r.ttlMs, acquiredAt },
    {
      async renew() {
        try {
          await writeLease(producer, names, { ...r, at: Date.now() });
          return undefined;
        } catch (e) {
          if (isFenced(e)) return FENCED;
          throw new FramelogError(`kafka lease renewal: ${kafkaErrorText(e)}`, 'kafka-unavailable');
        }
      },
      retryable: (e) => !isFenced(e),
      async release() {
        try {
          await writeLease(producer, names, { ...r, at: Date.now(), released: true });
        } finally {
          await disconnect(producer);
        }
      },
      onLost() {
        void disconnect(producer);
      },
    },
  );
  return Object.assign(lease, { producer });
}
