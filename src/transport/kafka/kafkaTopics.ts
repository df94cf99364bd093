import type { Admin } from 'kafkajs';
import type { KafkaNames } from './kafkaNames.js';

/** Largest record the deltas topic takes: a delta up to the plan's largest `maxDeltaBytes` (64 MiB). */
const MAX_RECORD_BYTES = 64 * 1024 * 1024 + 4096;

/**
 * Creates the store's topics when missing: deltas (one partition: the merger reads them in one
 * order; a writer's deltas stay in order), merges (one partition, published bundles) and lease
 * (compacted). Replication is `replicas` (default: 3 when the cluster has 3 brokers or more, else
 * 1), with `min.insync.replicas` 2 when replicated, so an `acks=all` put survives one broker's loss.
 */
export async function ensureKafkaTopics(admin: Admin, names: KafkaNames, replicas?: number): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = [names.deltas, names.merges, names.lease].filter((t) => !existing.has(t));
  if (missing.length === 0) return;
  const brokers = (await admin.describeCluster()).brokers.length;
  const rf = replicas ?? (brokers >= 3 ? 3 : 1);
  const common = [{ name: 'min.insync.replicas', value: String(rf >= 3 ? 2 : 1) }, { name: 'unclean.leader.election.enable', value: 'false' }];
  for (const topic of missing) {
    const configEntries = [...common, topic === names.lease ? { name: 'cleanup.policy', value: 'compact' } : { name: 'retention.ms', value: '-1' }, { name: 'max.message.bytes', value: String(MAX_RECORD_BYTES) }];
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: rf, configEntries }], waitForLeaders: true });
    } catch (e) {
      // Another process created it meanwhile.
      if (!(await admin.listTopics()).includes(topic)) throw e;
    }
  }
}
