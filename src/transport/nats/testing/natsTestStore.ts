import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { SERVICE_URLS } from '../../testing/services.js';
import { dropNatsStore } from '../dropNatsStore.js';
import { openNatsTransport, type NatsTransport, type NatsTransportOptions } from '../natsTransport.js';

/** A fresh store name for one test: `<prefix>_<random>`. */
export function uniqueNatsStore(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/**
 * Opens transports on fresh stores of the test server (FRAMELOG_NATS_URL or nats://127.0.0.1:4222)
 * and, on `cleanup()`, closes them and removes every store they used.
 */
export function natsTestStores(url: string = SERVICE_URLS.nats) {
  const opened: NatsTransport[] = [];
  const stores = new Set<string>();
  return {
    url,
    /** A transport on `store` (a fresh one when omitted). */
    async open(o: Partial<NatsTransportOptions> = {}): Promise<NatsTransport> {
      const t = await openNatsTransport({ url, store: o.store ?? uniqueNatsStore(), ...o });
      opened.push(t);
      stores.add(t.names.store);
      return t;
    },
    /** Messages now in the store's deltas stream. */
    async pendingCount(t: NatsTransport): Promise<number> {
      const jsm = await jetstreamManager(t.connection);
      return (await jsm.streams.info(t.names.deltasStream)).state.messages;
    },
    async cleanup(): Promise<void> {
      for (const t of opened) await t.close();
      for (const store of stores) await dropNatsStore({ url, store });
    },
  };
}
