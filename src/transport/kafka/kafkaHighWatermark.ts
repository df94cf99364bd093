import type { Kafka } from 'kafkajs';
import { FramelogError } from '../../errors.js';
import { withTimeout } from './kafkaClient.js';

/** The part of kafkajs's internal cluster this module uses (kafkajs is pinned to one version: see below). */
interface RawCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  fetchTopicsOffset(topics: Array<{ topic: string; fromBeginning: boolean; partitions: Array<{ partition: number }> }>): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

/** The isolation level of a ListOffsets request that sees every record, committed or not. */
const READ_UNCOMMITTED = 0;

const clusters = new WeakMap<Kafka, Promise<RawCluster>>();

/**
 * kafkajs answers `admin.fetchTopicOffsets` with the *last stable offset* (its admin asks as a
 * read-committed client), which stops before a transaction still open and before one whose commit
 * returned but whose markers are not written yet. Whether such a transaction lies at a topic's end
 * is what the merger lease needs to know (a contender must not take a lease a holder is writing).
 * The client has no public way to ask as a read-uncommitted client, so this builds its cluster
 * object with the client's own factory (the same brokers, retry and logger) and that isolation
 * level. It relies on kafkajs internals: `package.json` pins kafkajs exactly, and
 * `kafkaLease.int.spec.ts` fails if this stops working.
 */
function uncommittedCluster(kafka: Kafka): Promise<RawCluster> {
  let c = clusters.get(kafka);
  if (!c) {
    c = (async () => {
      const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
      const create = factory && (kafka as unknown as Record<symbol, unknown>)[factory];
      if (typeof create !== 'function') throw new FramelogError('kafka: this kafkajs has no cluster factory where 2.2.4 has it (framelog pins kafkajs 2.2.4)', 'unsupported');
      const cluster = (create as (o: object) => RawCluster)({ allowAutoTopicCreation: false, isolationLevel: READ_UNCOMMITTED });
      await cluster.connect();
      return cluster;
    })();
    clusters.set(kafka, c);
    c.catch(() => clusters.delete(kafka));
  }
  return c;
}

/** The high watermark of partition 0 of `topic`: the offset after its last record, committed, aborted or still open. */
export async function highWatermark(kafka: Kafka, topic: string): Promise<bigint> {
  const cluster = await withTimeout(uncommittedCluster(kafka), 15_000, 'connecting to read offsets');
  const got = await withTimeout((async () => {
    await cluster.addTargetTopic(topic);
    await cluster.refreshMetadataIfNecessary();
    return cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions: [{ partition: 0 }] }]);
  })(), 15_000, `reading the high watermark of ${topic}`);
  const p = got.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === 0);
  if (!p) throw new FramelogError(`kafka topic ${topic} has no partition 0`, 'kafka-unavailable');
  return BigInt(p.offset);
}

/** Disconnects what {@link highWatermark} opened for `kafka` (nothing when it was never used). */
export async function closeHighWatermarks(kafka: Kafka): Promise<void> {
  const c = clusters.get(kafka);
  clusters.delete(kafka);
  if (c) await c.then((x) => x.disconnect(), () => undefined);
}
