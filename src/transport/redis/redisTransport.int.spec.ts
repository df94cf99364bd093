import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readLog } from '../../store/history/journalQueries.js';
import { initStore } from '../../store/storeContext.js';
import { createFsTransport } from '../fs/fsTransport.js';
import { runTransportMerger } from '../runTransportMerger.js';
import { serviceForTests, SERVICE_URLS } from '../testing/services.js';
import { transportKey } from '../transportKey.js';
import { dropRedisStore } from './dropRedisStore.js';
import { describeDurability } from './redisDurability.js';
import { openRedisTransport, type RedisTransport, type RedisTransportOptions } from './redisTransport.js';

const ok = await serviceForTests('redis');
const url = SERVICE_URLS.redis;
const root = mkdtempSync(join(tmpdir(), 'framelog-redis-'));
const NOW = Date.parse('2026-06-01T00:00:00Z');
const opened: RedisTransport[] = [];
const stores = new Set<string>();
let admin: Redis | undefined;

const freshStore = (): string => {
  const s = `t-${randomBytes(6).toString('hex')}`;
  stores.add(s);
  return s;
};
const open = async (store: string, extra: Partial<RedisTransportOptions> = {}): Promise<RedisTransport> => {
  const t = await openRedisTransport({ url, store, ...extra });
  opened.push(t);
  return t;
};
const client = (): Redis => (admin ??= new Redis(url, { protocol: 2 }));
const delta = (frame: number, writer: string, n = 1): Buffer => Buffer.from(JSON.stringify({ frame, writer, utc: '2026-05-01T00:00:00Z', counters: { n } }));

afterEach(async () => {
  for (const t of opened.splice(0)) await t.close();
  for (const s of stores) await dropRedisStore(url, s);
  stores.clear();
});
afterAll(async () => {
  await admin?.quit();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!ok)('redis transport', () => {
  it('carries bytes exactly (invalid UTF-8, NUL, \\u0000 escape, empty), acknowledges, and redelivers after a merger restart', async () => {
    const store = freshStore();
    const writer = await open(store);
    const sent = [
      delta(1, 'w1'),
      Buffer.from([0x7b, 0xff, 0xfe, 0x80, 0x7d]), // invalid UTF-8
      Buffer.from('{"frame":1,"writer":"w2","utc":"2026-05-01T00:00:00Z","note":"a\0b"}'), // a raw NUL byte
      Buffer.from('{"frame":1,"writer":"w3","utc":"2026-05-01T00:00:00Z","note":"a\\u0000b"}'), // the JSON escape
      Buffer.alloc(0),
    ];
    const outcomes = await writer.put(sent);
    expect(outcomes).toEqual(sent.map((b) => ({ id: transportKey(b), duplicate: false })));

    const merger1 = await open(store);
    const got = await merger1.pull();
    expect(got.map((a) => Buffer.from(a.bytes).toString('hex'))).toEqual(sent.map((b) => b.toString('hex')));
    expect(got.every((a) => /^\d+-\d+$/.test(a.id))).toBe(true);
    expect(await merger1.pull()).toEqual([]); // nothing new in this session

    // The merger dies before acknowledging (its consumer keeps the entries): a new one claims them all.
    const merger2 = await open(store);
    const again = await merger2.pull();
    expect(again.map((a) => Buffer.from(a.bytes).toString('hex')).sort()).toEqual(sent.map((b) => b.toString('hex')).sort());
    await merger2.ack(again.map((a) => a.id));
    expect(await client().xlen(writer.keys.deltas)).toBe(0);
    expect(await client().hlen(writer.keys.pending)).toBe(0);
    expect(await client().xpending(writer.keys.deltas, 'mergers')).toEqual([0, null, null, null]);
    // A new session of the same merger finds nothing left.
    await merger2.merger!.begin();
    expect(await merger2.pull()).toEqual([]);
  });

  it('within a session, claims again what was delivered long ago and never acknowledged', async () => {
    const store = freshStore();
    await (await open(store)).put([delta(1, 'w1'), delta(2, 'w1')]);
    const m = await open(store, { reclaimMs: 300 });
    const first = await m.pull();
    expect(first.length).toBe(2);
    await m.ack([first[1].id]);
    expect(await m.pull()).toEqual([]); // too recent to claim again
    await new Promise((r) => setTimeout(r, 400));
    const again = await m.pull();
    expect(again.map((a) => a.id)).toEqual([first[0].id]);
    expect(Buffer.from(again[0].bytes).equals(delta(1, 'w1'))).toBe(true);
  });

  it('dedups only identical copies that are still pending', async () => {
    const store = freshStore();
    const w = await open(store);
    const m = await open(store);
    const a = delta(1, 'w1', 1);
    const aOther = delta(1, 'w1', 2); // same identity, other bytes
    expect((await w.put([a, a])).map((o) => o.duplicate)).toEqual([false, true]);
    expect((await w.put([a])).map((o) => o.duplicate)).toEqual([true]);
    expect(await w.put([aOther])).toEqual([{ id: transportKey(aOther), duplicate: false }]);
    expect(await client().xlen(w.keys.deltas)).toBe(2);
    const pulled = await m.pull();
    expect(pulled.map((p) => Buffer.from(p.bytes).equals(a) ? 'a' : 'other')).toEqual(['a', 'other']);
    // Delivered but not acknowledged is still pending: a copy stays a duplicate.
    expect((await w.put([a]))[0].duplicate).toBe(true);
    // Acknowledged (by a transport object that did not deliver it: the key is read from the entry).
    await (await open(store)).ack([pulled[0].id]);
    expect(await client().hkeys(w.keys.pending)).toEqual([transportKey(aOther)]);
    // The same copy is stored again (the merger records it as a duplicate).
    expect((await w.put([a]))[0].duplicate).toBe(false);
    expect(await client().xlen(w.keys.deltas)).toBe(2);
    const next = await m.pull();
    expect(next.map((p) => Buffer.from(p.bytes).equals(a))).toEqual([true]);
  });

  it('splits a large put into several script calls, dedup across them included', async () => {
    const store = freshStore();
    const w = await open(store);
    const many = Array.from({ length: 5000 }, (_, i) => delta(1 + (i % 50), `w${Math.floor(i / 50)}`));
    const withCopies = [...many, many[0], many[4999]]; // the copies land in the last script call
    const outcomes = await w.put(withCopies);
    expect(outcomes.filter((o) => o.duplicate).length).toBe(2);
    expect(outcomes.slice(-2).map((o) => o.duplicate)).toEqual([true, true]);
    expect(await client().xlen(w.keys.deltas)).toBe(5000);
    expect(await client().hlen(w.keys.pending)).toBe(5000);
    const m = await open(store, { readCount: 1500 });
    const got = await m.pull();
    expect(got.length).toBe(5000);
    await m.ack(got.map((a) => a.id));
    expect(await client().xlen(w.keys.deltas)).toBe(0);
    expect(await client().hlen(w.keys.pending)).toBe(0);
  });

  it('refuses a delta over the size limit and stores nothing of that put', async () => {
    const store = freshStore();
    const small = await open(store, { maxDeltaBytes: 100 });
    const err = await small.put([delta(1, 'w1'), Buffer.alloc(101, 0x20), delta(2, 'w1')]).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'FramelogError', code: 'too-large' });
    expect((err as Error).message).toMatch(/delta #1 is 101 bytes.*limit of 100 bytes/);
    expect(await client().xlen(small.keys.deltas)).toBe(0);
    expect(await client().hlen(small.keys.pending)).toBe(0);
    // The default limit is 64 MiB.
    const dflt = await open(store);
    await expect(dflt.put([Buffer.alloc(64 * 1024 * 1024 + 1)])).rejects.toMatchObject({ code: 'too-large' });
    expect(await client().xlen(small.keys.deltas)).toBe(0);
  });

  it('ends a bad delta in the quarantine with the same reason as the fs transport', async () => {
    const bytes = [delta(1, 'w1'), Buffer.from('{"frame":1,"writer":'), Buffer.from('{"frame":1,"writer":"w2","utc":"2026-05-01T00:00:00Z","colour":"red"}'), Buffer.alloc(0)];
    const reasons = (dir: string): string[] =>
      readdirSync(join(dir, 'quarantine')).filter((n) => n.endsWith('.why.json')).map((n) => (JSON.parse(readFileSync(join(dir, 'quarantine', n), 'utf8')) as { why: string }).why).sort();

    const fsDir = join(root, 'fs-store');
    const fsCtx = initStore(fsDir);
    await createFsTransport(fsDir).put(bytes);
    await runTransportMerger(fsCtx, createFsTransport(fsDir), { now: () => NOW });

    const store = freshStore();
    const redisDir = join(root, 'redis-store');
    const redisCtx = initStore(redisDir);
    await (await open(store)).put(bytes);
    const merger = await open(store);
    const records = await runTransportMerger(redisCtx, merger, { now: () => NOW });

    expect(reasons(fsDir).length).toBe(3);
    expect(reasons(redisDir)).toEqual(reasons(fsDir));
    expect(records.map((r) => [r.frame, r.applied.length, r.quarantined.length])).toEqual(readLog(fsCtx).map((r) => [r.frame, r.applied.length, r.quarantined.length]));
    expect(await client().xlen(merger.keys.deltas)).toBe(0); // all acknowledged
  });

  it('wakes a watcher soon after a put', async () => {
    const store = freshStore();
    const m = await open(store);
    const w = await open(store);
    const abort = new AbortController();
    let woke = 0;
    m.watch(() => woke++, abort.signal);
    await new Promise((r) => setTimeout(r, 200)); // let the subscription take
    const t0 = Date.now();
    await w.put([delta(1, 'w1')]);
    while (woke === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 5));
    expect(woke).toBe(1);
    abort.abort();
    await w.put([delta(2, 'w1')]);
    await new Promise((r) => setTimeout(r, 100));
    expect(woke).toBe(1); // stopped
  });

  it('reports the server persistence settings, and validates the store name', async () => {
    const t = await open(freshStore());
    const conf = (await client().config('GET', 'appendonly')) as string[];
    expect(t.durability.appendonly).toBe(conf[1]);
    if (conf[1] === 'no') expect(t.durability.onDiskWhenAcknowledged).toBe(false);
    expect(describeDurability('no', 'everysec', '').persistence).toBe('memory-only');
    expect(describeDurability('no', 'everysec', '3600 1').persistence).toBe('snapshots');
    expect(describeDurability('yes', 'everysec', '').persistence).toBe('fsync-everysec');
    expect(describeDurability('yes', 'always', '')).toMatchObject({ persistence: 'fsync-always', onDiskWhenAcknowledged: true });
    await expect(openRedisTransport({ url, store: 'a:b' })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(openRedisTransport({ url, store: '' })).rejects.toMatchObject({ code: 'bad-argument' });
  });
});
