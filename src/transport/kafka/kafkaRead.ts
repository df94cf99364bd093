import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { createConsumer, disconnect, kafkaErrorText, withTimeout } from './kafkaClient.js';
import { FramelogError } from '../../errors.js';
import { highWatermark } from './kafkaHighWatermark.js';

/** How long one read of a topic may go without progress. */
const READ_TIMEOUT_MS = 15_000;

/** A record as read: its offset, key, value and headers (as text). */
export interface TopicRecord {
  offset: bigint;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * The offsets of partition 0 of `topic`: the first kept and the end as a read-committed client sees
 * it (the last stable offset: before the first transaction still open or not yet marked). For a
 * topic no transaction writes (deltas), that is its high watermark; for the others see
 * {@link highWatermark}.
 */
export async function topicBounds(admin: Admin, topic: string): Promise<{ start: bigint; end: bigint }> {
  const offsets = await withTimeout(admin.fetchTopicOffsets(topic), READ_TIMEOUT_MS, `listing the offsets of ${topic}`);
  const p = offsets.find((x) => x.partition === 0);
  if (!p) throw new FramelogError(`kafka topic ${topic} has no partition 0`, 'kafka-unavailable');
  return { start: BigInt(p.low), end: BigInt(p.high) };
}

/** Options of {@link readTopic}. */
export interface ReadOptions {
  /**
   * Read up to the end seen when the read began, waiting for a transaction there to be committed
   * or aborted (at most the read's time limit), instead of ending at the first empty fetch. For a
   * reader that has just bumped the epoch of the one transactional id that writes the topic: no
   * earlier transaction can stay open, and one committed just before the bump may not be readable
   * yet (its markers are written a moment after the commit returns).
   */
  toEnd?: boolean;
  /**
   * Set to true when the read ended before the end seen when it began (a fetch returned nothing:
   * a transaction beyond is still open). Never set with `toEnd`.
   */
  cutShort?: { value: boolean };
}

/** Attempts of one read whose consumer failed (a group join refused on a loaded broker, say) before it is an error. */
const READ_ATTEMPTS = 3;

/** A read's consumer failed (it crashed, or lost its group): the read may be tried again from where it got to. */
class ConsumerFailed extends Error {}

/**
 * The committed records of partition 0 of `topic` from offset `from` up to the end seen when the
 * read began. The read is a consumer of a group of its own that commits nothing (the broker drops
 * the group when it leaves). It ends once it has passed the end, or when a fetch returns nothing:
 * what lies beyond is a transaction not yet committed, which a read-committed consumer cannot see
 * (`o.cutShort` says so). Batches wait in a short queue for the caller (at most 4), so a long topic
 * is not read into memory. A consumer that fails is replaced (from the record after the last one
 * yielded) up to {@link READ_ATTEMPTS} times in all, then the read fails with its cause.
 */
export async function* readTopic(kafka: Kafka, admin: Admin, topic: string, from: bigint, o: ReadOptions = {}): AsyncGenerator<TopicRecord> {
  const { start } = await topicBounds(admin, topic);
  const end = await highWatermark(kafka, topic);
  let next = from < start ? start : from;
  if (o.cutShort) o.cutShort.value = false;
  for (let attempt = 1; ; attempt++) {
    try {
      for await (const m of readOnce(kafka, admin, topic, next, end, o)) {
        next = m.offset + 1n;
        yield m;
      }
      return;
    } catch (e) {
      if (!(e instanceof ConsumerFailed)) throw e;
      if (attempt >= READ_ATTEMPTS) throw new FramelogError(`kafka: reading ${topic} failed ${READ_ATTEMPTS} times, last: ${e.message}`, 'kafka-unavailable');
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

async function* readOnce(kafka: Kafka, admin: Admin, topic: string, from: bigint, end: bigint, o: ReadOptions): AsyncGenerator<TopicRecord> {
  let next = from;
  if (next >= end) return;
  // Only the partition leader's fetches say whether anything committed is left.
  const meta = await withTimeout(admin.fetchTopicMetadata({ topics: [topic] }), READ_TIMEOUT_MS, `reading the metadata of ${topic}`);
  const leader = meta.topics[0]?.partitions.find((p) => p.partitionId === 0)?.leader;
  const consumer: Consumer = createConsumer(kafka, `framelog.read.${randomBytes(6).toString('hex')}`);
  const queue: TopicRecord[][] = [];
  let done = false;
  let failed: unknown;
  let wake: (() => void) | undefined;
  let room: (() => void) | undefined;
  let progressAt = Date.now();
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let batchSinceFetch = true;
  const { FETCH_START, FETCH, START_BATCH_PROCESS, CRASH } = consumer.events;
  // The events name the broker as a string ("1"), the metadata as a number.
  const fromLeader = (ev: { payload: unknown }): boolean => leader !== undefined && String((ev.payload as { nodeId?: unknown }).nodeId) === String(leader);
  consumer.on(FETCH, (ev) => {
    if (fromLeader(ev)) batchSinceFetch = false;
  });
  consumer.on(FETCH_START, (ev) => {
    if (fromLeader(ev) && !batchSinceFetch && !o.toEnd && !done) {
      done = true; // the last fetch found nothing past `next`: the rest is uncommitted
      if (o.cutShort) o.cutShort.value = true;
      poke();
    }
  });
  consumer.on(START_BATCH_PROCESS, (ev) => {
    batchSinceFetch = true;
    progressAt = Date.now();
    const p = ev.payload as { batchSize: number; lastOffset: string };
    if (p.batchSize === 0 && BigInt(p.lastOffset) + 1n > next) {
      next = BigInt(p.lastOffset) + 1n; // only markers or aborted records
      if (next >= end) done = true;
      poke();
    }
  });
  consumer.on(CRASH, (ev) => {
    failed ??= (ev.payload as { error: unknown }).error;
    poke();
  });
  try {
    await withTimeout((async () => {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          batchSinceFetch = true;
          progressAt = Date.now();
          const records: TopicRecord[] = [];
          for (const m of batch.messages) {
            const offset = BigInt(m.offset);
            if (offset < next || offset >= end) continue;
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? String(v[0]) : v.toString();
            records.push({ offset, key: m.key, value: m.value ?? Buffer.alloc(0), headers });
          }
          const last = BigInt(batch.lastOffset()) + 1n;
          if (records.length) queue.push(records);
          if (last > next) next = last;
          if (next >= end) done = true;
          poke();
          while (queue.length > 4 && !done) await new Promise<void>((r) => (room = r));
        },
      });
      // Throws when the consumer crashed already (its group is gone); the crash says why.
      consumer.seek({ topic, partition: 0, offset: String(next) });
    })(), READ_TIMEOUT_MS, `starting a read of ${topic}`).catch(async (e: unknown) => {
      await new Promise((r) => setTimeout(r, 20)); // the crash event follows the consumer's teardown
      if (failed || /not initialized/.test(kafkaErrorText(e))) throw new ConsumerFailed(kafkaErrorText(failed ?? e));
      throw e;
    });
    for (;;) {
      const batch = queue.shift();
      const r = room;
      room = undefined;
      r?.();
      if (batch) {
        for (const m of batch) yield m;
        continue;
      }
      if (failed) throw new ConsumerFailed(kafkaErrorText(failed));
      if (done) return;
      if (Date.now() - progressAt > READ_TIMEOUT_MS) throw new FramelogError(`kafka: reading ${topic} from offset ${next} made no progress for ${READ_TIMEOUT_MS / 1000} s`, 'kafka-unavailable');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 500);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    done = true;
    room?.();
    await disconnect(consumer);
  }
}

/** The last committed record of partition 0 of `topic`, or undefined when it holds none (`o.cutShort`: see {@link ReadOptions}). */
export async function lastRecord(kafka: Kafka, admin: Admin, topic: string, o: ReadOptions = {}, window = 16n): Promise<TopicRecord | undefined> {
  const { start } = await topicBounds(admin, topic);
  const end = await highWatermark(kafka, topic);
  for (let from = end - window; ; from -= window * 4n) {
    let last: TopicRecord | undefined;
    for await (const m of readTopic(kafka, admin, topic, from < start ? start : from, o)) last = m;
    if (last || from <= start) return last;
  }
}
