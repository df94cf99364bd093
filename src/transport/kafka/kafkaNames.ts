import { FramelogError } from '../../errors.js';

/** Where a store lives in Kafka: its topics, the merger's consumer group and transactional id. */
export interface KafkaNames {
  /** Deltas as put, keyed by writer (so one writer's deltas keep their order in a partition). */
  deltas: string;
  /** Published merge bundles, one partition, in index order (a merge may span several records). */
  merges: string;
  /** The merger lease: heartbeats of the holder, one partition, compacted. */
  lease: string;
  /** The merger's consumer group on `deltas`: its committed offsets are the acknowledgements. */
  group: string;
  /** The mergers' one transactional id: each new holder's producer epoch fences the one before. */
  transactionalId: string;
}

/** The names of `store` (letters, digits, `_`, `-`; checked by the transport config). */
export function kafkaNames(store: string): KafkaNames {
  const base = `framelog.${store}`;
  return { deltas: `${base}.deltas`, merges: `${base}.merges`, lease: `${base}.lease`, group: `${base}.merger`, transactionalId: `${base}.merger` };
}

/**
 * The bootstrap brokers of a URL: `kafka://host:port[,host:port…]` (each part may repeat the
 * scheme). Refuses anything else in one line.
 */
export function kafkaBrokers(url: string): string[] {
  const parts = url.split(',').map((p) => p.trim().replace(/^kafka:\/\//, ''));
  for (const p of parts) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(p) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(p)) {
      throw new FramelogError(`kafka url ${url}: want kafka://host:port[,host:port…] (got ${JSON.stringify(p)})`, 'bad-argument');
    }
  }
  return parts;
}
