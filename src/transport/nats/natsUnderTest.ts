import { engineUnderTest } from '../testing/engineUnderTest.js';
import type { TransportUnderTest } from '../testing/equivalence.js';
import { SERVICE_URLS } from '../testing/services.js';
import { dropNatsStore } from './dropNatsStore.js';
import { openNatsTransport, type NatsTransport, type NatsTransportOptions } from './natsTransport.js';
import { uniqueNatsStore } from './testing/natsTestStore.js';

/**
 * NATS for the equivalence harness, with options: a fresh store (`eq_<random>`) on the test server
 * (`FRAMELOG_NATS_URL`, default nats://127.0.0.1:4222); each writer and the merger their own
 * connection; the merger's store a local folder. `close` closes them all and removes the store's
 * streams and lease bucket.
 */
export function natsUnderTestWith(options: Partial<Omit<NatsTransportOptions, 'store'>> = {}, name = 'nats'): TransportUnderTest {
  const url = options.url ?? SERVICE_URLS.nats;
  return engineUnderTest(
    name,
    (store, w) => openNatsTransport({ ...options, url, store, ...(w === undefined ? {} : { name: `framelog ${store} ${w}` }) }),
    (store) => dropNatsStore({ url, store }),
    () => uniqueNatsStore('eq'),
  );
}

/** How long the server may still absorb a copy after the duplicate window: its dedup entries are purged on a timer (measured on 2.9.10: up to about twice the window). */
const DEDUP_LINGER = 2;

/**
 * NATS as the harness compares it with the fs inbox: a deltas stream with the shortest duplicate
 * window the server takes (100 ms), and a merger whose `ack` returns only once the window (twice
 * over) has passed since its pull. With the server's default window (2 minutes) a copy put again
 * after the merger took the first is absorbed by the server, where the fs inbox stores it and the
 * merger records it as a duplicate (`natsEquivalence.int.spec.ts` shows that difference); spaced
 * like this, every copy of a later round reaches the merger, as through the fs inbox, while copies
 * within one round are still deduplicated by `Nats-Msg-Id`.
 */
export const natsUnderTest: TransportUnderTest = {
  name: 'nats',
  async open(root, plan, writers) {
    const windowMs = 100;
    const opened = await natsUnderTestWith({ duplicateWindowMs: windowMs }).open(root, plan, writers);
    const m = opened.merger as NatsTransport;
    let pulledAt = 0;
    const merger: NatsTransport = {
      ...m,
      async pull() {
        pulledAt = Date.now();
        return m.pull();
      },
      async ack(ids) {
        await m.ack(ids);
        const wait = pulledAt + DEDUP_LINGER * windowMs + 50 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      },
    };
    return { ...opened, merger };
  },
};
