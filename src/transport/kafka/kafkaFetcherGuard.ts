import { createRequire } from 'node:module';

/** A fetcher of a stopped consumer asked for more: it ends instead of asking again. */
class ConsumerStopped extends Error {
  override name = 'FramelogConsumerStopped';
}

interface FetchManager {
  start(): Promise<void>;
  stop(): Promise<void>;
  getFetchers(): unknown[];
}
type CreateFetchManager = (o: { fetch: (nodeId: number) => Promise<unknown[]> } & Record<string, unknown>) => FetchManager;

let installed = false;

/**
 * Guards kafkajs 2.2.4's consumers against a busy loop that stalls the whole process. When a
 * consumer stops while its fetchers are being rebuilt (the brokers it fetches from changed: one was
 * killed, say), the rebuilt fetchers outlive the stop and ask the stopped runner for batches
 * forever; it answers "nothing" at once, so they spin on the microtask queue and no timer or I/O
 * of the process runs again (seen as a test suite hung at 100% CPU after a broker's SIGKILL). The
 * guard wraps the module that builds the fetchers (before kafkajs loads it): once the consumer has
 * asked its fetchers to stop, a fetch fails, which ends the fetcher. Must run before kafkajs is
 * first loaded; `kafkaLib()` calls it.
 */
export function guardKafkaFetchers(): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  const path = require.resolve('kafkajs/src/consumer/fetchManager.js');
  const create = require(path) as CreateFetchManager;
  const guarded: CreateFetchManager = (o) => {
    let stopped = false;
    const fm = create({
      ...o,
      fetch: (nodeId) => (stopped ? Promise.reject(new ConsumerStopped('the consumer stopped')) : o.fetch(nodeId)),
    });
    return {
      ...fm,
      stop: () => {
        stopped = true;
        return fm.stop();
      },
    };
  };
  const cached = require.cache[path];
  if (!cached) throw new Error(`kafkajs: ${path} is not in the module cache after loading it`);
  cached.exports = guarded;
}
