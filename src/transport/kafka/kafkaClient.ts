import type { Admin, Consumer, Kafka, Producer, Transaction } from 'kafkajs';
import { FramelogError } from '../../errors.js';
import { guardKafkaFetchers } from './kafkaFetcherGuard.js';

/** The client library, loaded on first use (writers of other transports never load it). */
export type KafkaLib = typeof import('kafkajs');

let lib: Promise<KafkaLib> | undefined;
/** Loads `kafkajs` (with {@link guardKafkaFetchers} in place). */
export function kafkaLib(): Promise<KafkaLib> {
  if (!lib) guardKafkaFetchers();
  lib ??= import('kafkajs');
  return lib;
}

/**
 * A client of `brokers` named `clientId`. Retries start at 10 ms and double up to 1 s (about 10 s
 * in all): a transaction begun right after the previous one committed is told
 * CONCURRENT_TRANSACTIONS until the coordinator has written the markers, a few ms later, and the
 * library's default first pause (300 ms) cost every merge that much. The library logs nothing:
 * every failure reaches the caller as an error (set `FRAMELOG_KAFKA_LOG=debug|info|warn|error` to
 * see the client's own lines on stderr).
 */
export async function createKafka(clientId: string, brokers: string[]): Promise<Kafka> {
  const k = await kafkaLib();
  const level = { debug: k.logLevel.DEBUG, info: k.logLevel.INFO, warn: k.logLevel.WARN, error: k.logLevel.ERROR }[process.env.FRAMELOG_KAFKA_LOG ?? ''] ?? k.logLevel.NOTHING;
  return new k.Kafka({
    clientId, brokers, logLevel: level, connectionTimeout: 3000, requestTimeout: 10_000,
    retry: { initialRetryTime: 10, maxRetryTime: 1000, factor: 0.1, multiplier: 2, retries: 14 },
    logCreator: () => ({ namespace, level: l, log }) => process.stderr.write(`kafkajs ${namespace} [${l}] ${log.message}\n`),
  });
}

/**
 * A connected producer with `acks=all` (asked by each send) that is idempotent (the broker drops a
 * retried batch it already has). With `transactionalId`, it is transactional: its first
 * `transaction()` bumps the id's epoch (InitProducerId), which fences every producer before it under
 * the same id (connecting does not: the client initialises the transactional id lazily).
 */
export async function createProducer(kafka: Kafka, transactionalId?: string): Promise<Producer> {
  const k = await kafkaLib();
  const producer = kafka.producer({
    // One request in flight keeps the idempotent sequence simple; retries are bounded (about 10 s)
    // so that a put to a cluster that is down fails instead of waiting forever: a put retried by
    // its caller after such a failure may land twice, which the merge drops (a delta's identity).
    idempotent: true, maxInFlightRequests: 1, createPartitioner: k.Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 10, maxRetryTime: 1000, factor: 0.1, multiplier: 2, retries: 14 },
    ...(transactionalId ? { transactionalId, transactionTimeout: TRANSACTION_TIMEOUT_MS } : {}),
  });
  await producer.connect();
  return producer;
}

/** A connected admin client. */
export async function createAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  return admin;
}

/** A consumer of group `groupId` that reads only committed transactions (it commits only when told to). */
export function createConsumer(kafka: Kafka, groupId: string): Consumer {
  return kafka.consumer({
    groupId, readUncommitted: false, maxWaitTimeInMs: 250, sessionTimeout: 10_000, heartbeatInterval: 1000, rebalanceTimeout: 10_000,
    // A consumer that failed stays down: the transport starts a new one and says why.
    retry: { initialRetryTime: 10, maxRetryTime: 1000, factor: 0.1, multiplier: 2, retries: 8, restartOnFailure: async () => false },
  });
}

/** Walks an error and its causes. */
function* causes(e: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  for (let x = e; x && typeof x === 'object' && !seen.has(x); x = (x as { cause?: unknown; originalError?: unknown }).cause ?? (x as { originalError?: unknown }).originalError) {
    seen.add(x);
    yield x as Record<string, unknown>;
  }
}

/** True for the broker's "a newer producer with this transactional id exists" (this one is fenced). */
export function isFenced(e: unknown): boolean {
  for (const x of causes(e)) {
    if (x.type === 'INVALID_PRODUCER_EPOCH' || x.type === 'PRODUCER_FENCED' || x.code === 47 || x.code === 90) return true;
    if (typeof x.message === 'string' && /Unknown error code 90\b|producer.*fenced/i.test(x.message)) return true;
  }
  return false;
}

/** One line for a client error: the library wraps the broker's reason in `cause`. */
export function kafkaErrorText(e: unknown): string {
  const lines: string[] = [];
  for (const x of causes(e)) {
    const m = typeof x.message === 'string' ? x.message : String(x);
    if (!lines.includes(m)) lines.push(m);
  }
  return lines.length ? lines.join(': ') : String(e);
}

/** Wraps a client failure as a FramelogError naming the broker and the store. */
export function unavailable(url: string, store: string, e: unknown): FramelogError {
  if (e instanceof FramelogError) return e;
  return new FramelogError(`kafka ${url} (store ${store}): ${kafkaErrorText(e)}`, 'kafka-unavailable');
}

/** How long one transaction (begin to commit) may take before the producer is given up. */
export const TRANSACTION_TIMEOUT_MS = 15_000;

/**
 * Rejects with a FramelogError `kafka-unavailable` when `p` has not settled within `ms`: a client
 * can wait long on a coordinator that died (seen when a broker is SIGKILLed mid-transaction).
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FramelogError(`kafka: ${what} did not complete within ${ms / 1000} s`, 'kafka-unavailable')), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Ends a transaction that failed, without waiting long on the broker: an abort to a coordinator
 * that died can hang, so it gets 5 s. Its caller gives the producer up when the failure was not
 * the broker's clear answer (a new holder's epoch bump aborts what is left).
 */
export async function abandon(txn: Transaction | undefined): Promise<void> {
  if (!txn || !txn.isActive()) return;
  await withTimeout(txn.abort(), 5000, 'aborting a transaction').catch(() => undefined);
}

/** The last transaction queued on each producer: a producer runs one transaction at a time. */
const queued = new WeakMap<Producer, Promise<void>>();

/**
 * Runs `body` in one transaction of `producer`, committed within {@link TRANSACTION_TIMEOUT_MS}
 * (or `ms`, the wait for the producer's earlier transactions included); aborts it on failure and
 * rethrows. Transactions of one producer run one after another: the lease's renewals share the
 * producer with the publications and acknowledgements, and the client refuses to begin one while
 * another commits.
 */
export function inTransaction(producer: Producer, what: string, body: (txn: Transaction) => Promise<void>, ms = TRANSACTION_TIMEOUT_MS): Promise<void> {
  const before = queued.get(producer) ?? Promise.resolve();
  let txn: Transaction | undefined;
  let gaveUp = false;
  const run = withTimeout((async () => {
    await before;
    if (gaveUp) return; // timed out while waiting: this transaction never begins
    txn = await producer.transaction();
    await body(txn);
    await txn.commit();
  })(), ms, what).catch(async (e: unknown) => {
    gaveUp = true;
    await abandon(txn);
    throw e;
  });
  queued.set(producer, run.catch(() => undefined));
  return run;
}

/**
 * Runs `op` again while the broker answers CONCURRENT_TRANSACTIONS (10 ms doubling, about 5 s in
 * all): the coordinator is still writing the markers of the transaction before. The client retries
 * that answer on a send, not on `sendOffsets` (AddOffsetsToTxn), which changed nothing when refused.
 */
export async function retryConcurrent<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      const busy = [...causes(e)].some((x) => x.type === 'CONCURRENT_TRANSACTIONS' || x.code === 51);
      if (!busy || attempt >= 12) throw e;
      await new Promise((r) => setTimeout(r, Math.min(1000, 10 * 2 ** attempt)));
    }
  }
}

/** Disconnects a client, giving up after 5 s. */
export function disconnect(c: { disconnect(): Promise<void> } | undefined): Promise<void> {
  return c ? withTimeout(c.disconnect(), 5000, 'disconnecting').catch(() => undefined) : Promise.resolve();
}
