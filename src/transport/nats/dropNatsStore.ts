import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsNames } from './natsNames.js';
import { deleteNatsStore } from './natsStreams.js';
import { natsServers } from './natsTransport.js';

/** Removes a store's streams and lease bucket from the NATS server at `url` (tests, benches, the equivalence harness). */
export async function dropNatsStore(o: { url: string; store: string }): Promise<void> {
  const names = natsNames(o.store);
  const nc = await connect({ servers: natsServers(o.url), name: `framelog drop ${o.store}` });
  try {
    await deleteNatsStore(await jetstreamManager(nc), names);
  } finally {
    await nc.close();
  }
}
