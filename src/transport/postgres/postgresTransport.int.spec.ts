import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { FramelogError } from '../../errors.js';
import { serviceForTests, SERVICE_URLS } from '../testing/services.js';
import { transportKey } from '../transportKey.js';
import { dropPostgresTransportStore, openPostgresTransport, type PostgresTransport } from './postgresTransport.js';

const ok = await serviceForTests('postgres');
const url = SERVICE_URLS.postgres;
const stores: string[] = [];
const opened: PostgresTransport[] = [];
const freshStore = (): string => {
  const s = `t_${randomBytes(5).toString('hex')}`;
  stores.push(s);
  return s;
};
const open = async (store: string, extra: { maxDeltaBytes?: number } = {}): Promise<PostgresTransport> => {
  const t = await openPostgresTransport({ url, store, ...extra });
  opened.push(t);
  return t;
};
let sql: pg.Client | undefined;
const db = async (): Promise<pg.Client> => {
  if (!sql) {
    sql = new pg.Client({ connectionString: url });
    await sql.connect();
  }
  return sql;
};
const rows = async (store: string): Promise<Array<{ id: string; key: string; body: Buffer; body_json: unknown; writer: string | null; frame: string | null }>> =>
  (await (await db()).query(`SELECT id, key, body, body_json, writer, frame FROM "framelog_${store}".deltas ORDER BY id`)).rows;
afterAll(async () => {
  for (const t of opened) await t.close();
  await sql?.end();
  for (const store of stores) await dropPostgresTransportStore({ url, store });
});

const delta = (frame: number, writer: string, extra: Record<string, unknown> = {}): Buffer =>
  Buffer.from(JSON.stringify({ frame, writer, utc: '2026-05-01T00:00:00.000Z', counters: { n: 1 }, ...extra }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

describe.skipIf(!ok)('postgres transport', () => {
  it('put → pull → ack carries every delta byte for byte, bad ones included; jsonb only where PostgreSQL accepts it', async () => {
    const store = freshStore();
    const writer = await open(store);
    const bytes = [
      delta(1, 'w1'),
      Buffer.concat([Buffer.from('{"frame":1,"writer":"w1","utc":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]), // invalid UTF-8
      Buffer.from('{"frame":1,"writer":"w1",\0"utc":"2026-05-01T00:00:00Z"}'), // a NUL byte
      Buffer.from('{"frame":1,"writer":"w1","utc":"2026-05-01T00:00:00Z","set":{"a":{"b":"x\\u0000y"}}}'), // an escape jsonb refuses
      Buffer.alloc(0), // empty
      Buffer.from('{"frame":2,"writer":"w1","utc":"2026-05-01T00:00:00Z","set":{"a":{"b":"\\ud83d\\ude00"}}}'), // a surrogate pair jsonb accepts
      Buffer.from('{"frame":2,"writer":"w1","utc":"2026-05-01T00:00:00Z","set":{"a":{"b":"\\ud83d"}}}'), // a lone surrogate jsonb refuses
      Buffer.from('[1, 2, 3]'),
      Buffer.from('not json at all'),
      Buffer.from('{"frame":3,"writer":"w1","utc":"2026-05-01T00:00:00Z","counters":{"n":1e999999}}'), // JSON to JS, a numeric overflow to jsonb
    ];
    const outcomes = await writer.put(bytes);
    expect(outcomes).toEqual(bytes.map((b) => ({ id: transportKey(b), duplicate: false })));

    const stored = await rows(store);
    expect(stored.map((r) => r.key)).toEqual(bytes.map((b) => transportKey(b)));
    expect(stored.map((r) => r.body_json === null)).toEqual([false, true, true, true, true, false, true, false, true, true]);
    expect(stored[0].body_json).toEqual(JSON.parse(bytes[0].toString()));
    expect(stored[5].body_json).toEqual({ frame: 2, writer: 'w1', utc: '2026-05-01T00:00:00Z', set: { a: { b: '😀' } } });
    // Identity columns come from the key (transportKey reads invalid UTF-8 leniently: the key still names w1, frame 1).
    expect(stored.map((r) => [r.writer, r.frame])).toEqual([['w1', '1'], ['w1', '1'], [null, null], ['w1', '1'], [null, null], ['w1', '2'], ['w1', '2'], [null, null], [null, null], ['w1', '3']]);

    const merger = await open(store);
    const pulled = await merger.pull();
    expect(pulled.map((a) => Buffer.compare(Buffer.from(a.bytes), bytes[pulled.indexOf(a)]))).toEqual(bytes.map(() => 0));
    expect(pulled).toHaveLength(bytes.length);
    expect(await merger.pull()).toEqual([]); // nothing new in this session

    // A restarted merger gets everything not acknowledged again.
    const restarted = await open(store);
    expect((await restarted.pull()).map((a) => Buffer.from(a.bytes).toString('hex'))).toEqual(bytes.map((b) => b.toString('hex')));
    await merger.ack(pulled.slice(0, 4).map((a) => a.id));
    expect((await rows(store)).map((r) => r.key)).toEqual(bytes.slice(4).map((b) => transportKey(b)));
    const third = await open(store);
    expect((await third.pull()).map((a) => Buffer.from(a.bytes).toString('hex'))).toEqual(bytes.slice(4).map((b) => b.toString('hex')));
  });

  it('dedup: an identical pending copy is stored once; other content with the same identity is stored; a re-put after ack is stored again', async () => {
    const store = freshStore();
    const w = await open(store);
    const a = delta(3, 'w2'), a2 = delta(3, 'w2', { counters: { n: 2 } }), b = delta(4, 'w2');
    expect(await w.put([a])).toEqual([{ id: transportKey(a), duplicate: false }]);
    expect(await w.put([a])).toEqual([{ id: transportKey(a), duplicate: true }]);
    const other = await open(store); // another writer process putting the same copy
    expect(await other.put([a, a2, b, b])).toEqual([
      { id: transportKey(a), duplicate: true },
      { id: transportKey(a2), duplicate: false },
      { id: transportKey(b), duplicate: false },
      { id: transportKey(b), duplicate: true },
    ]);
    expect((await rows(store)).map((r) => r.key)).toEqual([transportKey(a), transportKey(a2), transportKey(b)]);
    // A pending copy and a text jsonb refuses in one put: both retries (ON CONFLICT, try_jsonb) on the way.
    const overflow = delta(5, 'w2', { counters: { n: 1 }, x: 1 });
    const overflowBytes = Buffer.from(overflow.toString().replace('"x":1', '"x":1e999999'));
    expect(await w.put([b, overflowBytes])).toEqual([{ id: transportKey(b), duplicate: true }, { id: transportKey(overflowBytes), duplicate: false }]);
    expect((await rows(store)).map((r) => [r.key, r.body_json === null])).toEqual([[transportKey(a), false], [transportKey(a2), false], [transportKey(b), false], [transportKey(overflowBytes), true]]);

    const m = await open(store);
    const pulled = await m.pull();
    expect(pulled).toHaveLength(4);
    await m.ack(pulled.filter((p) => Buffer.from(p.bytes).equals(a)).map((p) => p.id));
    expect(await w.put([a])).toEqual([{ id: transportKey(a), duplicate: false }]); // stored again
    expect((await rows(store)).map((r) => r.key)).toEqual([transportKey(a2), transportKey(b), transportKey(overflowBytes), transportKey(a)]);
    expect((await m.pull()).map((p) => Buffer.from(p.bytes).equals(a))).toEqual([true]); // the new copy, in this session too
  });

  it('bodyJson: false leaves body_json NULL and changes nothing else', async () => {
    const store = freshStore();
    const w = await openPostgresTransport({ url, store, bodyJson: false });
    opened.push(w);
    const d = delta(1, 'w1');
    expect(await w.put([d, d])).toEqual([{ id: transportKey(d), duplicate: false }, { id: transportKey(d), duplicate: true }]);
    expect((await rows(store)).map((r) => [r.key, r.body.equals(d), r.body_json, r.writer, r.frame])).toEqual([[transportKey(d), true, null, 'w1', '1']]);
  });

  it('a delta over the size limit refuses the whole put, naming its index, size and the limit; nothing is stored', async () => {
    const store = freshStore();
    const small = await open(store, { maxDeltaBytes: 100 });
    const err = await small.put([delta(1, 'w1'), Buffer.alloc(101, 0x20), delta(2, 'w1')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FramelogError);
    expect((err as FramelogError).code).toBe('too-large');
    expect((err as FramelogError).message).toMatch(/delta #1 is 101 bytes, over the limit of 100 bytes/);
    expect(await small.put([Buffer.alloc(100, 0x20)])).toHaveLength(1); // at the limit: fine
    // The default limit is 64 MiB.
    const dflt = await open(store);
    const huge = Buffer.alloc(64 * 1024 * 1024 + 1, 0x20);
    await expect(dflt.put([delta(5, 'w1'), huge])).rejects.toMatchObject({ code: 'too-large', message: expect.stringMatching(/delta #1 is 67108865 bytes, over the limit of 67108864/) });
    expect((await rows(store)).map((r) => r.body.length)).toEqual([100]);
  });

  it('a put larger than one statement (70 MiB: two chunks in one transaction) comes back byte for byte', async () => {
    const store = freshStore();
    const w = await open(store);
    const big = [Buffer.alloc(40 * 1024 * 1024, 0x61), Buffer.concat([Buffer.from('{"frame":1,"writer":"w1","utc":"2026-05-01T00:00:00Z","x":"'), Buffer.alloc(30 * 1024 * 1024, 0x62), Buffer.from('"}')])];
    const out = await w.put(big);
    expect(out.map((o) => o.duplicate)).toEqual([false, false]);
    const got = await (await open(store)).pull();
    expect(got.map((g) => Buffer.from(g.bytes).equals(big[got.indexOf(g)]))).toEqual([true, true]);
    expect((await (await db()).query(`SELECT body_json IS NULL AS n FROM "framelog_${store}".deltas ORDER BY id`)).rows.map((r) => r.n)).toEqual([true, false]);
  });

  it('a put that commits late with a smaller id is still pulled (no cursor skips it)', async () => {
    const store = freshStore();
    const w = await open(store), m = await open(store);
    const late = new pg.Client({ connectionString: url });
    await late.connect();
    try {
      await late.query('BEGIN');
      const body = delta(7, 'w9');
      const r = await late.query(`INSERT INTO "framelog_${store}".deltas (key, body) VALUES ($1, $2) RETURNING id`, [transportKey(body), body]);
      await w.put([delta(8, 'w1')]);
      const first = await m.pull();
      expect(first.map((a) => Number(a.id) > Number(r.rows[0].id))).toEqual([true]);
      await late.query('COMMIT');
      const second = await m.pull();
      expect(second.map((a) => a.id)).toEqual([r.rows[0].id]);
      expect(Buffer.from(second[0].bytes).equals(body)).toBe(true);
    } finally {
      await late.end();
    }
  });

  it('pull pages through more rows than one page', async () => {
    const store = freshStore();
    const w = await openPostgresTransport({ url, store });
    opened.push(w);
    const all = Array.from({ length: 1234 }, (_, i) => delta(1 + (i % 7), `w${i}`));
    await w.put(all);
    const m = await openPostgresTransport({ url, store, pageRows: 100, pageBytes: 3000 });
    opened.push(m);
    const got = await m.pull();
    expect(got.map((g) => Buffer.from(g.bytes).toString())).toEqual(all.map((b) => b.toString()));
    expect(await m.pull()).toEqual([]);
  });

  it('watch: wakes on puts from other processes, and after its connection is killed it reconnects and wakes again', async () => {
    const store = freshStore();
    const w = await open(store);
    let wakes = 0;
    const errors: unknown[] = [];
    const m = await openPostgresTransport({ url, store, onBackgroundError: (e) => errors.push(e) });
    opened.push(m);
    const abort = new AbortController();
    const watcher = await openPostgresTransport({ url, store, onBackgroundError: (e) => errors.push(e) });
    opened.push(watcher);
    watcher.watch(() => wakes++, abort.signal);
    m.watch(() => undefined, abort.signal);
    const c = await db();
    const listeners = async (): Promise<number[]> => (await c.query(`SELECT pid FROM pg_stat_activity WHERE query = $1 AND datname = current_database()`, [`LISTEN "framelog_${store}"`])).rows.map((r) => r.pid);
    await until('two LISTEN connections', async () => (await listeners()).length === 2);
    await w.put([delta(1, 'w1')]);
    await until('a wake-up', () => wakes >= 1, 3000);
    const before = wakes;
    await c.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [await listeners()]);
    await until('the error reports', () => errors.length >= 2, 3000);
    expect(String(errors[0])).toMatch(/terminating connection/);
    await until('a wake-up after reconnecting', () => wakes > before, 5000);
    const afterReconnect = wakes;
    await w.put([delta(2, 'w1')]);
    await until('a wake-up for the next put', () => wakes > afterReconnect, 3000);
    abort.abort();
    await sleep(50);
    const stopped = wakes;
    await w.put([delta(3, 'w1')]);
    await sleep(300);
    expect(wakes).toBe(stopped);
  });

  it('watch: a burst of back-to-back puts (notifications coalesced) still wakes a merger that pulls only when woken, up to the last put', async () => {
    const store = freshStore();
    const w = await open(store), m = await open(store);
    const abort = new AbortController();
    let pulled = 0;
    let pulling = Promise.resolve();
    m.watch(() => {
      pulling = pulling.then(async () => void (pulled += (await m.pull()).length));
    }, abort.signal);
    await sleep(300); // LISTEN is up
    for (let i = 0; i < 40; i++) await w.put([delta(1 + i, 'w1')]);
    await until('every put pulled after a wake-up', () => pulled === 40, 3000);
    abort.abort();
  });

  it('opening one new store from many connections at once creates it once; bad names and options are refused', async () => {
    const store = freshStore();
    const all = await Promise.all(Array.from({ length: 6 }, () => open(store)));
    expect(all.map((t) => t.schema)).toEqual(all.map(() => `framelog_${store}`));
    const fsyncOn = (await (await db()).query('SHOW fsync')).rows[0].fsync === 'on';
    expect(all[0].durability).toEqual({ onDiskWhenAcknowledged: fsyncOn, summary: expect.stringMatching(fsyncOn ? /flushed its commit to the WAL on disk \(synchronous_commit = on\)/ : /fsync = off/) });
    await all[0].put([delta(1, 'w1')]);
    expect(await all[5].pull()).toHaveLength(1);
    for (const bad of ['', 'a b', 'a"b', 'x'.repeat(55), 'é']) {
      await expect(openPostgresTransport({ url, store: bad })).rejects.toMatchObject({ code: 'bad-argument' });
    }
    await expect(openPostgresTransport({ url, store, maxDeltaBytes: 0 })).rejects.toMatchObject({ code: 'bad-argument' });
    const down = (await openPostgresTransport({ url: 'postgres://someone:s3cret@127.0.0.1:1/test', store }).then(() => undefined, (e: unknown) => e)) as FramelogError;
    expect(down).toMatchObject({ code: 'postgres-unavailable', message: expect.stringMatching(/^postgres transport \(store t_\w+\): cannot open the store at postgres:\/\/someone@127\.0\.0\.1:1\/test: .*ECONNREFUSED/) });
    expect(down.message).not.toContain('s3cret');
    await all[1].close();
    await all[1].close(); // idempotent
    await expect(all[1].put([delta(1, 'w1')])).rejects.toMatchObject({ code: 'closed' });
  });
});
