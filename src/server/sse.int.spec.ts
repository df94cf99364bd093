import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openMergerOn } from '../store/openStore.js';
import { putDeltas } from '../store/inbox/putDeltas.js';
import { openStoreContext } from '../store/storeContext.js';
import { openStreamAppender, type StreamAppender } from '../stream/openStreamAppender.js';
import { delta, serve, type Served } from './testing/serverFixture.js';

interface Got {
  type: string;
  id: string;
  data: string;
}

const sources: EventSource[] = [];
afterEach(() => {
  for (const es of sources.splice(0)) es.close();
});

/** An EventSource (the `eventsource` package) that records every event of the given types. */
function listen(url: string, types: string[], headers: Record<string, string> = {}): { es: EventSource; got: Got[]; errors: Array<{ code?: number; message?: string }> } {
  const es = new EventSource(url, { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) });
  sources.push(es);
  const got: Got[] = [];
  const errors: Array<{ code?: number; message?: string }> = [];
  for (const t of types) es.addEventListener(t, (e) => got.push({ type: t, id: (e as MessageEvent).lastEventId, data: (e as MessageEvent).data }));
  es.addEventListener('error', (e) => errors.push({ code: (e as unknown as { code?: number }).code, message: (e as unknown as { message?: string }).message }));
  return { es, got, errors };
}

const until = (cond: () => boolean, timeout = 10_000) => expect.poll(cond, { timeout, interval: 10 }).toBe(true);
const numbers = (got: Got[]) => got.filter((g) => g.type === 'record').map((g) => (JSON.parse(g.data) as { i: number }).i);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

describe('SSE: merge records', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({ pollMs: 50 });
  });
  afterAll(() => s.close());

  function putAndMerge(frame: number): void {
    const ctx = openStoreContext(s.dir);
    putDeltas(ctx, [{ bytes: Buffer.from(delta(frame, 'w1', { counters: { n: 1 } })), source: 't' }]);
    const m = openMergerOn(ctx);
    try {
      m.merge();
    } finally {
      m.close();
    }
  }

  it('follows merges live, replays from ?cursor=, and resumes from Last-Event-ID without a gap or a copy', async () => {
    putAndMerge(1);
    putAndMerge(2);
    const live = listen(`${s.url}/api/merges/events`, ['ready', 'merge']);
    await until(() => live.got.length === 1);
    expect(live.got[0]).toEqual({ type: 'ready', id: '2', data: '{"cursor":2}' });
    putAndMerge(3);
    await until(() => live.got.length === 2);
    expect(live.got[1].id).toBe('3');
    expect(JSON.parse(live.got[1].data).frame).toBe(3);

    const replay = listen(`${s.url}/api/merges/events?cursor=0`, ['merge']);
    await until(() => replay.got.length === 3);
    expect(replay.got.map((g) => [g.id, JSON.parse(g.data).frame])).toEqual([['1', 1], ['2', 2], ['3', 3]]);
    replay.es.close();

    const resumed = listen(`${s.url}/api/merges/events?cursor=0`, ['merge'], { 'last-event-id': '2' });
    putAndMerge(4);
    await until(() => resumed.got.length === 2);
    expect(resumed.got.map((g) => JSON.parse(g.data).frame)).toEqual([3, 4]);
  });

  it('refuses a cursor past the last record with 409', async () => {
    const r = await fetch(`${s.url}/api/merges/events?cursor=99`);
    expect(r.status).toBe(409);
    expect(((await r.json()) as { error: string }).error).toBe('bad-cursor');
  });
});

describe('SSE: stream records', () => {
  let s: Served;
  let app: StreamAppender;
  let seq = 0;
  beforeAll(async () => {
    s = await serve({ pollMs: 50, heartbeatMs: 100 });
    app = openStreamAppender(s.dir, 'feed', { durability: 'none' });
  });
  afterAll(async () => {
    await app.close();
    await s.close();
  });
  const append = async (n: number) => {
    for (let k = 0; k < n; k++) await app.append({ i: seq++ });
  };

  it('a client that disconnects mid-stream and reconnects with Last-Event-ID misses nothing and sees nothing twice', async () => {
    await append(10);
    const first = listen(`${s.url}/api/streams/feed/events?cursor=0`, ['record']);
    const writing = (async () => {
      for (let k = 0; k < 40; k++) {
        await append(5);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await until(() => first.got.length >= 60);
    first.es.close();
    const last = first.got[first.got.length - 1].id;
    const second = listen(`${s.url}/api/streams/feed/events?cursor=0`, ['record'], { 'last-event-id': last });
    await writing;
    await until(() => first.got.length + second.got.length >= 210);
    await new Promise((r) => setTimeout(r, 100));
    expect([...numbers(first.got), ...numbers(second.got)]).toEqual(range(0, 210));
    // Ids are cursors: each record's id is where the next one starts.
    const file = fs.readFileSync(path.join(s.dir, 'streams', 'feed.ndjson'));
    for (const g of second.got) expect(file[Number(g.id) - 1]).toBe(10);
  });

  it("the client's own reconnect after the server drops it resumes exactly (eventsource sends Last-Event-ID)", async () => {
    const start = seq;
    const c = listen(`${s.url}/api/streams/feed/events`, ['ready', 'record']);
    let opens = 0;
    c.es.addEventListener('open', () => opens++);
    await until(() => c.got.length === 1);
    for (let k = 0; k < 30; k++) {
      await append(5);
      if (k === 10 || k === 20) {
        await until(() => s.server.sse.stats().clients === 1); // reconnected (retry: 1000 ms)
        s.server.sse.dropAll();
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await until(() => numbers(c.got).length >= 150, 15_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(numbers(c.got)).toEqual(range(start, start + 150));
    expect(opens).toBe(3);
    expect(s.server.sse.stats().dropped).toBeGreaterThanOrEqual(2);
  });

  it('never sends a partial line: a record is sent once its newline is written', async () => {
    const file = path.join(s.dir, 'streams', 'partial.ndjson');
    fs.writeFileSync(file, '');
    const c = listen(`${s.url}/api/streams/partial/events`, ['ready', 'record']);
    await until(() => c.got.length === 1);
    fs.appendFileSync(file, '{"i":1,"half":"');
    await new Promise((r) => setTimeout(r, 300));
    expect(c.got).toHaveLength(1);
    fs.appendFileSync(file, 'done"}\n{"i":2}\n{bad json}\n{"i":3}\n');
    await until(() => c.got.length === 4);
    expect(c.got.slice(1).map((g) => JSON.parse(g.data))).toEqual([{ i: 1, half: 'done' }, { i: 2 }, { i: 3 }]);
  });

  it('waits for a stream that does not exist yet', async () => {
    const c = listen(`${s.url}/api/streams/later/events?cursor=0`, ['ready', 'record']);
    await until(() => c.got.length === 1);
    const a = openStreamAppender(s.dir, 'later', { durability: 'none' });
    await a.append({ i: 7 });
    await a.close();
    await until(() => c.got.length === 2);
    expect(JSON.parse(c.got[1].data).i).toBe(7);
  });

  it('tells the client when the file is replaced by hand (no compaction manifest), then follows the new file', async () => {
    const file = path.join(s.dir, 'streams', 'compacted.ndjson');
    fs.writeFileSync(file, '{"i":0}\n{"i":1}\n');
    const c = listen(`${s.url}/api/streams/compacted/events?cursor=0`, ['record', 'reset']);
    await until(() => c.got.length === 2);
    fs.writeFileSync(file + '.tmp', '{"i":100}\n');
    fs.renameSync(file + '.tmp', file);
    await until(() => c.got.length === 4);
    expect(c.got[2]).toMatchObject({ type: 'reset', id: '0' });
    expect(c.got[3]).toMatchObject({ type: 'record', data: '{"i":100}', id: '10' });
  });

  it('refuses a cursor inside a record or past the end with 409', async () => {
    expect((await fetch(`${s.url}/api/streams/feed/events?cursor=3`)).status).toBe(409);
    const r = await fetch(`${s.url}/api/streams/feed/events`, { headers: { 'last-event-id': '999999999' } });
    expect(r.status).toBe(409);
    expect(s.server.sse.stats().tails).toBeLessThanOrEqual(1 + sources.length);
  });

  it('sends heartbeats on an idle connection', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.get(`${s.url}/api/streams/idle/events`, (res) => {
        let t = '';
        res.on('data', (d) => {
          t += d;
          if (t.includes(': heartbeat')) {
            req.destroy();
            resolve(t);
          }
        });
      });
      req.on('error', reject);
    });
    expect(text).toMatch(/^retry: 1000\nid: 0\nevent: ready\n/);
  });
});

describe('SSE with --read-token: EventSource cannot send headers', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({ readToken: true, pollMs: 50 });
  });
  afterAll(() => s.close());

  it('connects with a short-lived ?token= or the session cookie, and is refused without', async () => {
    const minted = (await (await fetch(`${s.url}/api/read-tokens`, { method: 'POST', headers: s.auth })).json()) as { token: string };
    const withQuery = listen(`${s.url}/api/streams/x/events?token=${minted.token}`, ['ready']);
    await until(() => withQuery.got.length === 1);
    const session = await fetch(`${s.url}/api/session`, { method: 'POST', headers: s.auth });
    const cookie = session.headers.get('set-cookie')!.split(';')[0];
    const withCookie = listen(`${s.url}/api/streams/x/events`, ['ready'], { cookie });
    await until(() => withCookie.got.length === 1);
    const without = listen(`${s.url}/api/streams/x/events`, ['ready']);
    await until(() => without.errors.length > 0);
    expect(without.errors[0].code).toBe(401);
    expect(without.es.readyState).toBe(EventSource.CLOSED);
  });
});

describe('SSE: slow clients', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({ pollMs: 20, sseBufferBytes: 256 * 1024, slowClientMs: 1000 });
  });
  afterAll(() => s.close());

  /** 1 MiB of records `{"i":n,"pad":"…"}`, numbered from `from`. */
  function chunk(from: number): { text: string; count: number } {
    let text = '';
    let n = from;
    while (text.length < (1 << 20) - 200) text += `{"i":${n++},"pad":"${'x'.repeat(150)}"}\n`;
    return { text, count: n - from };
  }

  it('a client that stops reading does not grow server memory past a fixed bound, and is dropped', async () => {
    const file = path.join(s.dir, 'streams', 'flood.ndjson');
    fs.writeFileSync(file, '');
    const sock = await new Promise<http.IncomingMessage>((resolve) => http.get(`${s.url}/api/streams/flood/events`, resolve).on('error', () => undefined));
    sock.on('error', () => undefined);
    await new Promise((r) => sock.once('data', r));
    sock.pause(); // reads nothing more: the kernel buffers fill, then the server's
    let n = 0;
    for (let k = 0; k < 64; k++) {
      const c = chunk(n);
      n += c.count;
      fs.appendFileSync(file, c.text);
      await new Promise((r) => setTimeout(r, 15));
    }
    await until(() => s.server.sse.stats().dropped === 1, 10_000);
    const stats = s.server.sse.stats();
    // 64 MiB went by; what the server held for this client stayed near the bound.
    expect(stats.maxBuffered).toBeLessThan(256 * 1024 + 4 * 1024 * 1024 + 64 * 1024);
    console.log(`slow client: 64 MiB appended, server-side unread bytes peaked at ${(stats.maxBuffered / 1024).toFixed(0)} KiB; dropped after 1000 ms without reading`);
    sock.destroy();
  });

  it('a client that reads slowly is paced from disk and still gets every record, in order, once', async () => {
    const file = path.join(s.dir, 'streams', 'paced.ndjson');
    fs.writeFileSync(file, '');
    const ids: number[] = [];
    let last = 0;
    let ok = true;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${s.url}/api/streams/paced/events`, resolve).on('error', reject));
    res.on('error', () => undefined);
    const reading = (async () => {
      let buf = '';
      let received = 0;
      res.setEncoding('utf8');
      for await (const d of res as AsyncIterable<string>) {
        buf += d;
        received += d.length;
        let at = 0;
        let end;
        while ((end = buf.indexOf('\n\n', at)) >= 0) {
          const ev = buf.slice(at, end);
          at = end + 2;
          const data = /^data: (.*)$/m.exec(ev)?.[1];
          if (!/^event: record$/m.test(ev) || data === undefined) continue;
          const rec = JSON.parse(data) as { i: number };
          if (rec.i !== ids.length) ok = false;
          ids.push(rec.i);
          last = Number(/^id: (\d+)$/m.exec(ev)?.[1]);
        }
        buf = buf.slice(at);
        if (received > 256 * 1024) {
          received = 0;
          await new Promise((r) => setTimeout(r, 100)); // slow, but within slowClientMs
        }
      }
    })();
    let n = 0;
    for (let k = 0; k < 12; k++) {
      const c = chunk(n);
      n += c.count;
      fs.appendFileSync(file, c.text);
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => ids.length === n, 40_000);
    res.destroy();
    await reading.catch(() => undefined);
    expect(ok).toBe(true);
    expect(last).toBe(fs.statSync(file).size);
    expect(s.server.sse.stats().paced).toBeGreaterThan(0);
    expect(s.server.sse.stats().dropped).toBe(1); // only the client of the test above
  });
});
