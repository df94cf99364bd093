// The Kafka transport in bench/transports.mjs: deltas/s put by W writer processes through the
// transport (idempotent acks=all producer, key = writer) against the same processes and batches
// through the raw client (the same producer settings, a plain topic, no key), and the latency from
// a put to its merge with a watch-mode merger.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runAlone, runWriterProcesses, summarize } from './engineBench.mjs';
import { putToMerged } from './putToMerged.mjs';

const URL_ = process.env.FRAMELOG_KAFKA_URL ?? 'kafka://127.0.0.1:9092';
const load = (dist, file) => import(pathToFileURL(path.join(dist, file)).href);

const runWriters = (dist, store, mode, writers, perWriter, batch) => runWriterProcesses({
  worker: 'kafkaWorker.mjs', writers, leadMs: 2500, label: `kafka ${mode}`,
  argsOf: (i, startAt) => [dist, URL_, store, `w${i}`, String(perWriter), String(batch), String(startAt), mode],
});

/** Records in partition 0 of `topic` (no transactions there: the end offset is the count). */
async function count(admin, topic) {
  const offsets = await admin.fetchTopicOffsets(topic);
  return Number(offsets.find((p) => p.partition === 0).high);
}

/** Throughput through the transport and through the raw client, interleaved (3 trials, medians; 1 with `quick`). Checks every delta arrived. */
export async function measure({ dist, writers, perWriter, batch, quick }) {
  const { openKafkaTransport } = await load(dist, 'transport/kafka/kafkaTransport.js');
  const { createKafka, createAdmin } = await load(dist, 'transport/kafka/kafkaClient.js');
  const brokers = URL_.split(',').map((p) => p.replace(/^kafka:\/\//, ''));
  const deltas = writers * perWriter;
  const seconds = { transport: [], raw: [] };
  for (let trial = 0; trial < (quick ? 1 : 3); trial++) {
      for (const mode of ['transport', 'raw']) {
        const store = `bench-${randomBytes(5).toString('hex')}`;
        // The transport's topics, and the raw one with the same settings (created before the clock starts).
        const t = await openKafkaTransport({ url: URL_, store });
        // An admin per trial: the client refreshes metadata of every topic it ever asked about,
        // and fails on one another client deleted.
        const admin = await createAdmin(await createKafka('bench-admin', brokers));
        await admin.createTopics({ topics: [{ topic: `framelog.${store}.raw`, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }], waitForLeaders: true });
        try {
          seconds[mode].push(await runWriters(dist, store, mode, writers, perWriter, batch));
          const topic = mode === 'raw' ? `framelog.${store}.raw` : t.names.deltas;
          const n = await count(admin, topic);
          if (n !== deltas) throw new Error(`kafka ${mode}: ${n} of ${deltas} deltas in ${topic}`);
        } finally {
          await admin.deleteTopics({ topics: [`framelog.${store}.raw`] }).catch(() => undefined);
          await admin.disconnect();
          await t.destroy();
          await t.close();
        }
      }
    }
  return summarize({ writers, perWriter, batch, seconds });
}

/** One writer, one delta per frame, a watch-mode merger expecting that writer: ms from the put call to the merge. */
export async function latency({ dist, frames }) {
  const { openKafkaTransport } = await load(dist, 'transport/kafka/kafkaTransport.js');
  const store = `bench-lat-${randomBytes(5).toString('hex')}`;
  return putToMerged({
    dist, frames, name: 'kafka',
    open: async () => {
      const t = await openKafkaTransport({ url: URL_, store });
      return t;
    },
    drop: async () => {
      // Called after the writer and merger transports closed: a fresh one deletes the topics.
      const t = await openKafkaTransport({ url: URL_, store });
      await t.destroy();
      await t.close();
    },
  });
}

// Run alone: node bench/transports/kafka.mjs [--quick] (uses dist/ as built).
if (process.argv[1] === fileURLToPath(import.meta.url)) await runAlone('kafka', { measure, latency });
