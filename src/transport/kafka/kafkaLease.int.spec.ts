// The Kafka merger lease and its fencing, on a real broker: one holder at a time, a waiter takes
// over after the TTL, and a holder fenced by a newer producer epoch can publish and acknowledge nothing.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { FramelogError } from '../../errors.js';
import type { PublishedMerge } from '../transport.js';
import { serviceForTests, SERVICE_URLS } from '../testing/services.js';
import { createKafka, createProducer, inTransaction } from './kafkaClient.js';
import { OPEN_TRANSACTION, type KafkaLease } from './kafkaLease.js';
import { kafkaBrokers } from './kafkaNames.js';
import { openKafkaTransport, type KafkaTransport } from './kafkaTransport.js';

const ok = await serviceForTests('kafka');
const opened: KafkaTransport[] = [];
afterAll(async () => {
  for (const t of opened) {
    await t.destroy().catch(() => undefined);
    await t.close();
  }
});
const open = async (store: string): Promise<KafkaTransport> => {
  const t = await openKafkaTransport({ url: SERVICE_URLS.kafka, store });
  opened.push(t);
  return t;
};
/** The merges readable from `from` on, once they are (a commit's markers are written just after it returns). */
async function readable(t: KafkaTransport, from: number, want: number): Promise<PublishedMerge[]> {
  for (let i = 0; ; i++) {
    const got: PublishedMerge[] = [];
    for await (const m of t.failover.readMerges(from)) got.push(m);
    if (got.length >= want || i >= 50) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const merge = (index: number) => ({ index, frame: index, recordSha256: 'x'.repeat(64), bundle: Buffer.from(`bundle ${index}`) });

describe.skipIf(!ok)('kafka merger lease', () => {
  it('one holder at a time: a waiter is told who holds it, and takes over once the holder releases', async () => {
    const store = `lease-${randomBytes(4).toString('hex')}`;
    const [a, b] = [await open(store), await open(store)];
    const la = await a.failover.acquireLease({ holder: 'A', ttlMs: 3000 });
    const waits: string[] = [];
    const lb = b.failover.acquireLease({ holder: 'B', ttlMs: 3000, onWait: (h) => waits.push(h) });
    lb.catch(() => undefined); // awaited below; a failure before then is reported there
    // Several of A's renewals (every ttl / 3) happen while B waits: B must never take a renewal
    // in flight for a free lease (its epoch bump would fence A).
    await new Promise((r) => setTimeout(r, 4000));
    expect(la.lost.aborted ? String((la.lost.reason as Error).message) : 'held').toBe('held');
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((h) => h === 'A' || h === OPEN_TRANSACTION)).toBe(true);
    await la.release();
    const held = await lb;
    expect(held.token).toBeGreaterThan(la.token);
    await held.release();
  }, 30_000);

  it('a lease record in a transaction not yet committed (a holder taking or renewing it) is not read as free: the contender waits instead of fencing it', async () => {
    const store = `open-${randomBytes(4).toString('hex')}`;
    const t = await open(store);
    // A merger taking the lease, caught between its send and its commit (kafkajs' admin would
    // report the topic's end before this record, and the topic would look empty).
    const holder = await createProducer(await createKafka('holder', kafkaBrokers(SERVICE_URLS.kafka)), t.names.transactionalId);
    const txn = await holder.transaction();
    await txn.send({ topic: t.names.lease, acks: -1, messages: [{ key: 'lease', value: JSON.stringify({ holder: 'H', token: 1, at: Date.now(), ttlMs: 5000 }) }] });
    const waits: string[] = [];
    const stop = new AbortController();
    const contender = t.failover.acquireLease({ holder: 'C', ttlMs: 5000, signal: stop.signal, onWait: (h) => waits.push(h) }).then(
      (l) => l.release().then(() => 'took it'),
      (e: unknown) => (stop.signal.aborted ? 'waited' : String(e)),
    );
    await new Promise((r) => setTimeout(r, 1500));
    stop.abort(new Error('test over'));
    expect(await contender).toBe('waited');
    expect(waits).toContain(OPEN_TRANSACTION);
    await txn.commit(); // not fenced: nobody bumped the epoch
    await holder.disconnect();
  }, 30_000);

  it('a holder fenced by a newer producer epoch can publish nothing (the broker refuses its commit), and loses the lease', async () => {
    const store = `fence-${randomBytes(4).toString('hex')}`;
    const t = await open(store);
    const lease = (await t.failover.acquireLease({ holder: 'stale', ttlMs: 3000 })) as KafkaLease;
    await t.failover.publishMerges([merge(1)], lease);
    expect((await t.failover.publishedHead())?.index).toBe(1);
    // What a merger taking over does first: a producer of the mergers' transactional id bumps the epoch.
    const newer = await createProducer(await createKafka('newer', kafkaBrokers(SERVICE_URLS.kafka)), t.names.transactionalId);
    const txn = await newer.transaction();
    await txn.send({ topic: t.names.lease, acks: -1, messages: [{ key: 'lease', value: JSON.stringify({ holder: 'newer', token: 0, at: Date.now(), ttlMs: 3000 }) }] });
    await txn.commit();
    const refused = await t.failover.publishMerges([merge(2)], lease).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(FramelogError);
    expect((refused as FramelogError).code).toBe('lease-lost');
    await new Promise((r) => setTimeout(r, 500));
    expect((await readable(t, 1, 1)).map((m) => m.index)).toEqual([1]); // nothing of merge 2, ever
    // The stale holder's renewal fails too: it learns within ttl / 3.
    await new Promise<void>((resolve) => (lease.lost.aborted ? resolve() : lease.lost.addEventListener('abort', () => resolve(), { once: true })));
    expect(String((lease.lost.reason as Error).message)).toMatch(/fenced/);
    await newer.disconnect();
  }, 30_000);

  it('publishing must follow the head: a gap is refused as diverged, and nothing is published', async () => {
    const store = `div-${randomBytes(4).toString('hex')}`;
    const t = await open(store);
    const lease = await t.failover.acquireLease({ holder: 'h', ttlMs: 3000 });
    await t.failover.publishMerges([merge(1), merge(2)], lease);
    const gap = await t.failover.publishMerges([merge(4)], lease).then(() => undefined, (e: unknown) => e);
    expect((gap as FramelogError).code).toBe('diverged');
    expect((await readable(t, 1, 2)).map((m) => m.index)).toEqual([1, 2]);
    // A bundle bigger than one record's part goes in parts and comes back whole.
    const big = { ...merge(3), bundle: Buffer.alloc(1_300_000, 7) };
    await t.failover.publishMerges([big], lease);
    const back = await readable(t, 3, 1);
    expect(back).toHaveLength(1);
    expect(Buffer.compare(Buffer.from(back[0].bundle), big.bundle)).toBe(0);
    expect(await t.failover.trimMerges(3)).toBe(2);
    expect((await readable(t, 1, 1)).map((m) => m.index)).toEqual([3]);
    await lease.release();
  }, 30_000);

  it('a holder renewing every 250 ms while it publishes: its transactions run one after another (the client refuses to begin one while another commits)', async () => {
    const store = `busy-${randomBytes(4).toString('hex')}`;
    const t = await open(store);
    // A TTL of 750 ms: renewals every 250 ms, each confirmed within 750 ms even while a publication
    // holds the producer on a loaded machine (300 ms lost leases when the suite ran beside it).
    const lease = await t.failover.acquireLease({ holder: 'busy', ttlMs: 750 });
    const t0 = Date.now();
    let n = 0;
    while (n < 12 || Date.now() - t0 < 1500) await t.failover.publishMerges([merge(++n)], lease);
    expect(lease.lost.aborted, String((lease.lost.reason as Error | undefined)?.message)).toBe(false);
    expect((await readable(t, 1, n)).map((m) => m.index)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    await lease.release();
    // Eight at once on one producer: all commit, in the order asked.
    const p = await createProducer(await createKafka('queue', kafkaBrokers(SERVICE_URLS.kafka)), `${t.names.transactionalId}.q`);
    await Promise.all(Array.from({ length: 8 }, (_, i) => inTransaction(p, `txn ${i}`, async (txn) => {
      await txn.send({ topic: t.names.lease, acks: -1, messages: [{ key: 'q', value: String(i) }] });
    })));
    await p.disconnect();
  }, 30_000);
});
