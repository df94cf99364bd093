import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { FramelogError } from '../../errors.js';
import type { Arrival, Failover, MergerLease, PublishedHead, Transport } from '../transport.js';
import { createAdmin, createConsumer, createKafka, createProducer, disconnect, inTransaction, isFenced, kafkaErrorText, retryConcurrent, unavailable, withTimeout } from './kafkaClient.js';
import { acquireKafkaLease, FENCED, type KafkaLease } from './kafkaLease.js';
import { kafkaPublishedHead, publishKafkaMerges, readKafkaMerges, trimKafkaMerges } from './kafkaMerges.js';
import { kafkaBrokers, kafkaNames, type KafkaNames } from './kafkaNames.js';
import { ensureKafkaTopics } from './kafkaTopics.js';
import { topicBounds } from './kafkaRead.js';
import { closeHighWatermarks } from './kafkaHighWatermark.js';

/** How often an idle merger session compares its progress with the deltas topic's end, and how long deltas may wait undelivered before it restarts. */
const STALL_CHECK_MS = 2000;
const STALL_MS = 5000;

/** Options of {@link openKafkaTransport}. */
export interface KafkaTransportOptions {
  /** `kafka://host:port[,host:port…]`: the bootstrap brokers. */
  url: string;
  /** Names the store's topics (`framelog.<store>.deltas`, `.merges`, `.lease`) and the merger's group. */
  store: string;
  /** Replication of the topics created (default: 3 on a cluster of 3 brokers or more, else 1). */
  replicas?: number;
}

/** The Kafka transport: the {@link Transport} with its failover, and the names it uses. */
export interface KafkaTransport extends Transport {
  readonly names: KafkaNames;
  readonly failover: Failover;
  /** Deletes the store's topics and the merger's group (tests, `framelog transport drop`). */
  destroy(): Promise<void>;
}

/** The writer of a delta as received (its key, so one writer's deltas stay in order); none for bytes that are not a delta. */
function writerOf(bytes: Uint8Array): Buffer | undefined {
  const m = /"(?:writer|stream_id|writer_id)"\s*:\s*"([A-Za-z0-9._-]{1,128})"/.exec(Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 4096)).toString('latin1'));
  return m ? Buffer.from(m[1]) : undefined;
}

/**
 * Opens the Kafka transport (Apache Kafka 3.x/4.x, KRaft or not) with `kafkajs`.
 *
 * **When a put is acknowledged**: `put` resolves once the partition leader answered an `acks=all`
 * produce from an idempotent producer: every in-sync replica has the records (with replication 3
 * and `min.insync.replicas=2`, at least two brokers). Kafka acknowledges from memory: brokers flush
 * to disk on their own schedule, so durability comes from replication — a single-broker setup can
 * lose acknowledged deltas on a power failure (not on a broker crash: the page cache survives).
 *
 * **The merger** reads `deltas` in the consumer group `framelog.<store>.merger` (read-committed),
 * merges, publishes, and only then acknowledges: the consumer offsets are committed inside a
 * transaction of the lease's producer, so a merger fenced by a newer holder can acknowledge nothing.
 * A merger that crashes re-reads from the last committed offsets; landing is idempotent.
 */
export async function openKafkaTransport(o: KafkaTransportOptions): Promise<KafkaTransport> {
  const brokers = kafkaBrokers(o.url);
  const names = kafkaNames(o.store);
  const me = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const fail = (e: unknown): never => {
    throw unavailable(o.url, o.store, e);
  };
  let kafka: Kafka;
  let admin: Admin;
  try {
    kafka = await createKafka(`framelog-${me}`, brokers);
    admin = await createAdmin(kafka);
    await ensureKafkaTopics(admin, names, o.replicas);
  } catch (e) {
    return fail(e);
  }
  let producer: Producer | undefined;
  const leases = new Set<KafkaLease>();
  /** The merger session: its consumer, and the messages it delivered, by arrival id. */
  let session: {
    consumer: Consumer; queue: Arrival[]; delivered: Map<string, { partition: number; offset: bigint }>; wake: Set<() => void>;
    /** The offset after the last delivered message. */
    next: bigint;
    /** Set once the first pull of the session has seen what was pending when it began. */
    caughtUp: boolean;
    /** The group's committed offset when the session began reading. */
    from: bigint;
    /** When the last message was delivered (or the session began), and when a stall was last checked. */
    deliveredAt: number;
    checkedAt: number;
    failed?: Error;
  } | undefined;

  /** The merger group's committed offset on the deltas topic (0 before any commit). */
  async function committedOffset(): Promise<bigint> {
    const offsets = await withTimeout(admin.fetchOffsets({ groupId: names.group, topics: [names.deltas] }), 10_000, `reading the offsets of ${names.group}`);
    const p = offsets.find((t) => t.topic === names.deltas)?.partitions.find((x) => x.partition === 0);
    const at = p ? BigInt(p.offset) : -1n;
    return at >= 0n ? at : 0n;
  }
  let closing: Promise<void> | undefined;
  /** What this process published last, under which lease token (null: it found nothing published). */
  let published: { token: number; head: PublishedHead | null } | undefined;

  async function endSession(): Promise<void> {
    const s = session;
    session = undefined;
    if (!s) return;
    await disconnect(s.consumer);
  }

  async function startSession(): Promise<void> {
    await endSession();
    const consumer = createConsumer(kafka, names.group);
    const s: NonNullable<typeof session> = { consumer, queue: [], delivered: new Map(), wake: new Set(), next: 0n, caughtUp: false, from: 0n, deliveredAt: Date.now(), checkedAt: Date.now() };
    session = s;
    consumer.on(consumer.events.CRASH, (ev) => {
      s.failed = (ev.payload as { error: Error }).error;
    });
    try {
      await withTimeout((async () => {
        await consumer.connect();
        await consumer.subscribe({ topic: names.deltas, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              const id = `${batch.partition}:${m.offset}`;
              s.delivered.set(id, { partition: batch.partition, offset });
              s.queue.push({ id, bytes: m.value ?? Buffer.alloc(0) });
              if (offset + 1n > s.next) s.next = offset + 1n;
            }
            if (batch.messages.length) {
              s.deliveredAt = Date.now();
              for (const w of s.wake) w();
            }
          },
        });
      })(), 15_000, `joining the merger group ${names.group}`);
    } catch (e) {
      await endSession();
      throw e;
    }
  }

  async function close(): Promise<void> {
    for (const l of leases) await l.release().catch(() => undefined);
    await endSession();
    await Promise.all([disconnect(producer), disconnect(admin), closeHighWatermarks(kafka)]);
  }

  const failover: Failover = {
    async acquireLease(options) {
      const lease = await acquireKafkaLease(kafka, admin, names, options).catch(fail);
      leases.add(lease);
      const release = lease.release.bind(lease);
      return Object.assign(lease, { release: async () => { leases.delete(lease); await release(); } }) as MergerLease;
    },
    async publishMerges(merges, lease) {
      // The head this holder published last: a committed transaction's records become readable
      // only once the coordinator has written its markers, so a read right after may lag.
      const known = published?.token === lease.token ? published.head : undefined;
      const head = await publishKafkaMerges(kafka, admin, names, merges, lease as KafkaLease, known).catch(fail);
      published = { token: lease.token, head: head ?? null };
    },
    async publishedHead() {
      const read = await kafkaPublishedHead(kafka, admin, names).catch(fail);
      const mine = published?.head ?? undefined;
      return mine && (!read || mine.index > read.index) ? mine : read;
    },
    readMerges: (fromIndex) => readKafkaMerges(kafka, admin, names, fromIndex),
    trimMerges: (keepFromIndex) => trimKafkaMerges(kafka, admin, names, keepFromIndex).catch(fail),
  };

  return {
    name: 'kafka',
    names,
    durability: {
      onDiskWhenAcknowledged: false,
      summary: 'a put is acknowledged when every in-sync replica holds it (acks=all, idempotent producer); brokers write to disk on their own schedule, so with one broker a power failure can lose acknowledged deltas — replicate (3 brokers, min.insync.replicas=2) for durability',
    },
    async put(deltas) {
      try {
        producer ??= await createProducer(kafka);
        await producer.send({ topic: names.deltas, acks: -1, messages: deltas.map((bytes) => ({ partition: 0, key: writerOf(bytes) ?? null, value: Buffer.from(bytes) })) });
      } catch (e) {
        return fail(e);
      }
      return deltas.map((_, i) => ({ id: `put-${i}`, duplicate: false }));
    },
    async pull() {
      if (!session) await startSession().catch(fail);
      const s = session!;
      if (s.failed) {
        const e = s.failed;
        await endSession();
        throw new FramelogError(`kafka ${o.url} (store ${o.store}): reading ${names.deltas} failed: ${kafkaErrorText(e)} (the next pull starts a new session)`, 'kafka-unavailable');
      }
      // A new session's first pull waits until the consumer has delivered what the topic held
      // when the pull began (after the group join and first fetches), so that a one-shot merge
      // sees every pending delta. Later pulls take what has arrived and return at once.
      if (!s.caughtUp) {
        const target = (await topicBounds(admin, names.deltas).catch(fail)).end;
        const committed = await committedOffset().catch(fail);
        const deadline = Date.now() + 15_000;
        while (committed < target && s.next < target && Date.now() < deadline && !s.failed) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(done, 100);
            function done(): void {
              clearTimeout(t);
              s.wake.delete(done);
              resolve();
            }
            s.wake.add(done);
          });
        }
        s.caughtUp = true;
        s.from = committed;
      } else if (s.queue.length === 0 && Date.now() - s.checkedAt > STALL_CHECK_MS) {
        // A consumer that stopped fetching without a word (seen when a partition leader is killed)
        // looks idle: compare with the topic's end now and then, and start a new session when
        // deltas wait that it has not delivered for a while.
        s.checkedAt = Date.now();
        const end = (await topicBounds(admin, names.deltas).catch(fail)).end;
        const at = s.next > s.from ? s.next : s.from;
        if (end > at && Date.now() - s.deliveredAt > STALL_MS) {
          await endSession();
          throw new FramelogError(`kafka ${o.url} (store ${o.store}): the merger's consumer delivered nothing for ${STALL_MS / 1000} s while ${end - at} deltas wait (a broker failover?); the next pull starts a new session`, 'kafka-unavailable');
        }
      }
      return s.queue.splice(0);
    },
    async ack(ids) {
      const s = session;
      if (!s || ids.length === 0) return;
      // The last delivered offset of each partition among `ids`: committing it acknowledges all before it.
      const last = new Map<number, bigint>();
      for (const id of ids) {
        const m = s.delivered.get(id);
        if (!m) continue;
        const held = last.get(m.partition);
        if (held === undefined || m.offset > held) last.set(m.partition, m.offset);
        s.delivered.delete(id);
      }
      if (last.size === 0) return;
      const partitions = [...last].map(([partition, offset]) => ({ partition, offset: String(offset + 1n) }));
      const lease = [...leases].find((l) => !l.lost.aborted);
      if (!lease) {
        await s.consumer.commitOffsets(partitions.map((p) => ({ topic: names.deltas, ...p }))).catch(fail);
        return;
      }
      try {
        await inTransaction(lease.producer, `acknowledging on ${names.deltas}`, async (txn) => {
          await retryConcurrent(() => txn.sendOffsets({ consumerGroupId: names.group, topics: [{ topic: names.deltas, partitions }] }));
        });
      } catch (e) {
        if (isFenced(e)) {
          lease.lose(FENCED);
          throw new FramelogError(`kafka ack on ${names.deltas}: token ${lease.token} was fenced by a newer merger; nothing acknowledged`, 'lease-lost');
        }
        // A transaction that failed or hung leaves the producer in a state the client cannot leave:
        // give the lease up (a new holder, this merger again, bumps the epoch and aborts what is
        // left), and redeliver.
        lease.lose(`kafka ack on ${names.deltas}: ${kafkaErrorText(e)}`);
        await endSession();
        return fail(e);
      }
    },
    merger: {
      async begin() {
        await startSession().catch(fail);
        return () => void endSession();
      },
    },
    watch(onArrival, signal) {
      if (signal.aborted || closing) return;
      const poke = (): void => {
        if (!signal.aborted) onArrival();
      };
      const attach = (): void => {
        session?.wake.add(poke);
      };
      attach();
      // A new session (after a failure) has its own wake list: attach to it too.
      const t = setInterval(() => {
        attach();
        if (session && session.queue.length > 0) poke();
      }, 250);
      t.unref();
      signal.addEventListener('abort', () => {
        clearInterval(t);
        session?.wake.delete(poke);
      }, { once: true });
    },
    failover,
    async destroy() {
      await endSession();
      await admin.deleteTopics({ topics: [names.deltas, names.merges, names.lease] }).catch(() => undefined);
      await admin.deleteGroups([names.group]).catch(() => undefined);
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}
