import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compactStream } from '../stream/compact/compactStream.js';
import { readManifest } from '../stream/compact/manifest.js';
import { openStreamAppender, type StreamAppender } from '../stream/openStreamAppender.js';
import { serve, type Served } from './testing/serverFixture.js';

interface Got {
  type: string;
  id: string;
  data: string;
}

const sources: EventSource[] = [];
afterEach(() => {
  for (const es of sources.splice(0)) es.close();
});

/** An EventSource on `target` of the server that records its `ready`, `record` and `reset` events. */
function listen(url: string, headers: Record<string, string> = {}): { es: EventSource; got: Got[] } {
  const es = new EventSource(url, { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) });
  sources.push(es);
  const got: Got[] = [];
  for (const type of ["ready", "record", "reset"]) es.addEventListener(type, (e) => got.push({ type, id: (e as MessageEvent).lastEventId, data: (e as MessageEvent).data }));
  return { es, got };
}

const until = (cond: () => boolean, timeout = 4_000) => expect.poll(cond, { timeout, interval: 10 }).toBe(true);
const records = (got: Got[]) => got.filter((g) => g.type === 'record');
const numbers = (got: Got[]) => records(got).map((g) => (JSON.parse(g.data) as { i: number }).i);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

describe('SSE: stream records across compactions', () => {
  let s: Served;
  let app: StreamAppender;
  /** `nexts[i]`: the stream cursor after record `i` (what its event id must be). */
  const nexts: number[] = [];
  beforeAll(async () => {
    s = await serve({ pollMs: 50 });
    app = openStreamAppender(s.dir, 'feed', { durability: 'none' });
  });
  afterAll(async () => {
    await app.close();
    await s.close();
  });
  const append = async (n: number, pad = '') => {
    for (let k = 0; k < n; k++) nexts.push((await app.append({ i: nexts.length, ...(pad ? { pad } : {}) })).next);
  };
  /** Appends a marker record and waits for `client` to get it: any record sent twice would have come before it. */
  const settled = async (client: { got: Got[] }) => {
    await append(1);
    await until(() => numbers(client.got).includes(nexts.length - 1));
  };

  it('a client connected across compactions gets every record once, with stream cursors as ids, and no reset', async () => {
    await append(20);
    const c = listen(`${s.url}/api/streams/feed/events?cursor=0`);
    await until(() => records(c.got).length === 20);
    compactStream(s.dir, 'feed');
    await append(10);
    await until(() => records(c.got).length === 30);
    await append(10); // appended before the client's tail looks: read from the old file, then the new one
    compactStream(s.dir, 'feed');
    await append(10);
    compactStream(s.dir, 'feed');
    compactStream(s.dir, 'feed', { gzip: false });
    await append(10);
    await settled(c);
    expect(readManifest(s.dir, 'feed')!.segments.length).toBeGreaterThanOrEqual(3);
    expect(c.got.filter((g) => g.type === 'reset')).toEqual([]);
    expect(numbers(c.got)).toEqual(range(0, nexts.length));
    expect(records(c.got).map((g) => Number(g.id))).toEqual(nexts);
  });

  it('resumes exactly from a Last-Event-ID or ?cursor= taken before a compaction', async () => {
    const c = listen(`${s.url}/api/streams/feed/events?cursor=0`);
    await until(() => records(c.got).length === nexts.length);
    const k = nexts.length - 8;
    const id = records(c.got)[k - 1].id; // the cursor after record k - 1: where record k starts
    c.es.close();
    compactStream(s.dir, 'feed');
    await append(5);
    const resumed = listen(`${s.url}/api/streams/feed/events?cursor=0`, { 'last-event-id': id });
    const byQuery = listen(`${s.url}/api/streams/feed/events?cursor=${id}`);
    await settled(resumed);
    await until(() => numbers(byQuery.got).includes(nexts.length - 1));
    for (const client of [resumed, byQuery]) {
      expect(client.got[0]).toEqual({ type: 'ready', id, data: `{"cursor":${id}}` });
      expect(numbers(client.got)).toEqual(range(k, nexts.length));
      expect(records(client.got).map((g) => Number(g.id))).toEqual(nexts.slice(k));
    }
  });

  it('replays a long compacted history from 0 in order, and starts a client without a cursor at the stream end', async () => {
    await append(800, 'x'.repeat(200)); // ~190 KiB: several catch-up steps through one segment
    compactStream(s.dir, 'feed');
    await append(3);
    const now = listen(`${s.url}/api/streams/feed/events`);
    await until(() => now.got.length === 1);
    expect(now.got[0].id).toBe(String(nexts[nexts.length - 1]));
    const replay = listen(`${s.url}/api/streams/feed/events?cursor=0`);
    await settled(replay);
    expect(numbers(replay.got)).toEqual(range(0, nexts.length));
    expect(records(replay.got).map((g) => Number(g.id))).toEqual(nexts);
    expect(numbers(now.got)).toEqual([nexts.length - 1]);
  });

  it('refuses a cursor inside a compacted record or past the end with 409', async () => {
    const seg = readManifest(s.dir, 'feed')!.segments[0];
    const inside = await fetch(`${s.url}/api/streams/feed/events?cursor=${seg.first + 3}`);
    expect(inside.status).toBe(409);
    const body = (await inside.json()) as { error: string; message: string };
    expect(body.error).toBe('bad-cursor');
    expect(body.message).toContain('streams/feed.ndjson');
    expect(body.message).not.toContain(s.dir);
    const past = await fetch(`${s.url}/api/streams/feed/events`, { headers: { 'last-event-id': String(nexts[nexts.length - 1] + 1) } });
    expect(past.status).toBe(409);
    await until(() => s.server.sse.stats().clients === sources.filter((e) => e.readyState !== EventSource.CLOSED).length);
  });
});
