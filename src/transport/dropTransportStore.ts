import { FramelogError } from '../errors.js';
import type { TransportConfig } from './transport.js';

/**
 * Removes everything a store keeps in an engine (PostgreSQL schema, Redis keys, NATS streams and
 * lease bucket): pending deltas, published merges, the lease. The merger's local store is left
 * alone. For tests, benches and `framelog transport drop`.
 */
export async function dropTransportStore(config: TransportConfig): Promise<void> {
  const store = config.store;
  if (!store || !config.url) throw new FramelogError(`transport drop: --transport ${config.transport} needs --url and --store`, 'bad-argument');
  switch (config.transport) {
    case 'postgres':
      return (await import('./postgres/postgresTransport.js')).dropPostgresTransportStore({ url: config.url, store });
    case 'redis':
      await (await import('./redis/dropRedisStore.js')).dropRedisStore(config.url, store);
      return;
    case 'nats': {
      const t = await (await import('./nats/natsTransport.js')).openNatsTransport({ url: config.url, store });
      try {
        await t.destroy();
      } finally {
        await t.close();
      }
      return;
    }
    case 'kafka': {
      const t = await (await import('./kafka/kafkaTransport.js')).openKafkaTransport({ url: config.url, store });
      try {
        await t.destroy();
      } finally {
        await t.close();
      }
      return;
    }
    default:
      throw new FramelogError(`transport drop: ${config.transport} keeps nothing outside the store folder`, 'bad-argument');
  }
}
