import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactStream } from '../stream/compact/compactStream.js';
import { openStreamAppender } from '../stream/openStreamAppender.js';
import { JSON_TYPE, request, serve, type Served } from './testing/serverFixture.js';

interface Entry {
  cursor: number;
  next: number;
  record: { i: number; type: string; [k: string]: unknown };
}

let s: Served;
beforeAll(async () => {
  s = await serve();
});
afterAll(() => s.close());

const get = (target: string) => request(s, 'GET', target);

/** Given records `{type, i}` for `i` in `[from, from + n)` appended through the server, one POST each: their cursors, and the end. */
async function givenAppended(name: string, from: number, n: number): Promise<{ cursors: number[]; end: number }> {
  const cursors: number[] = [];
  let end = 0;
  for (let i = from; i < from + n; i++) {
    const r = await request(s, 'POST', `/api/streams/${name}`, { headers: { ...s.auth, ...JSON_TYPE }, body: JSON.stringify({ type: i % 3 === 0 ? 'tick' : 'tock', i }) });
    expect(r.status).toBe(201);
    cursors.push(r.json.cursor);
    end = r.json.next;
  }
  return { cursors, end };
}

/** Every record from `cursor` on, read page by page (`limit` per page): the entries, and the last `next`. */
async function readAll(name: string, cursor: number, query = '', limit = 7): Promise<{ entries: Entry[]; next: number }> {
  const entries: Entry[] = [];
  for (;;) {
    const r = await get(`/api/streams/${name}/records?cursor=${cursor}&limit=${limit}${query}`);
    expect(r.status, r.text).toBe(200);
    entries.push(...(r.json.records as Entry[]));
    if (r.json.next === cursor) return { entries, next: cursor };
    cursor = r.json.next;
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
const streamInfo = async (name: string) => ((await get('/api/streams')).json.streams as Array<{ name: string }>).find((x) => x.name === name);

describe('GET /api/streams/:name/records across compactions', () => {
  it('reads from 0 and from a cursor taken before the compaction, through the segments, with the cursors appends gave', async () => {
    const first = await givenAppended('audit', 0, 20);
    const before = await get('/api/streams/audit/records?cursor=0&limit=1000');
    expect(before.json.next).toBe(first.end);
    compactStream(s.dir, 'audit');
    const second = await givenAppended('audit', 20, 10); // the server's appender follows the swap
    compactStream(s.dir, 'audit', { gzip: false });
    const third = await givenAppended('audit', 30, 5);
    const cursors = [...first.cursors, ...second.cursors, ...third.cursors];

    const all = await readAll('audit', 0);
    expect(all.entries.map((e) => e.record.i)).toEqual(range(0, 35));
    expect(all.entries.map((e) => e.cursor)).toEqual(cursors);
    expect(all.next).toBe(third.end);
    const fromOld = await readAll('audit', before.json.records[12].cursor);
    expect(fromOld.entries.map((e) => e.record.i)).toEqual(range(12, 35));
    const fromOldEnd = await readAll('audit', before.json.next);
    expect(fromOldEnd.entries.map((e) => e.record.i)).toEqual(range(20, 35));
    const ticks = await readAll('audit', 0, '&type=tick', 3);
    expect(ticks.entries.map((e) => e.record.i)).toEqual(range(0, 35).filter((i) => i % 3 === 0));
    expect(await streamInfo('audit')).toMatchObject({ records: 35, bytes: third.end });
  });

  it('refuses a cursor inside a compacted record or past the end with 409, naming the stream by its store path', async () => {
    const inside = await get('/api/streams/audit/records?cursor=3');
    expect(inside.status).toBe(409);
    expect(inside.json.error).toBe('bad-cursor');
    expect(inside.json.message).toContain('audit');
    expect(inside.text).not.toContain(s.dir);
    const past = await get('/api/streams/audit/records?cursor=99999999');
    expect(past.status).toBe(409);
    expect(past.json.message).toMatch(/^cursor 99999999 is past the end of stream "audit" \(it ends at cursor \d+\)/);
    expect(past.text).not.toContain(s.dir);
    expect(past.text).not.toContain('/proc/');
  });

  it("upcasts compacted records to the stream's schema, as readStream does", async () => {
    const a = openStreamAppender(s.dir, 'legacy');
    await a.appendBatch([{ type: 'old', n: 1 }, { type: 'old', n: 2 }]);
    await a.close();
    compactStream(s.dir, 'legacy');
    const planFile = path.join(s.dir, 'framelog.json');
    const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(planFile, JSON.stringify({ ...plan, streams: { legacy: { version: 2, upcast: { '1': { defaults: { unit: 'ms' }, rename: { n: 'count' } } } } } }));
    const r = await get('/api/streams/legacy/records');
    expect(r.json.records.map((e: Entry) => e.record)).toEqual([expect.objectContaining({ v: 2, unit: 'ms', count: 1 }), expect.objectContaining({ v: 2, unit: 'ms', count: 2 })]);
  });

  it('lists and reads a stream whose records are all in segments (no live file)', async () => {
    const { end } = await givenAppended('cold', 0, 5);
    compactStream(s.dir, 'cold');
    fs.rmSync(path.join(s.dir, 'streams', 'cold.ndjson'));
    const r = await get('/api/streams/cold/records');
    expect(r.status).toBe(200);
    expect(r.json.records.map((e: Entry) => e.record.i)).toEqual(range(0, 5));
    expect(r.json.next).toBe(end);
    expect(await streamInfo('cold')).toEqual({ name: 'cold', records: 5, bytes: end, lastTs: r.json.records[4].record.ts });
  });

  it('counts what an eviction left: the evicted records are gone, their cursors read on from the next record', async () => {
    const a = openStreamAppender(s.dir, 'aged');
    const old = await a.appendBatch([{ i: 0, ts: '2020-01-01T00:00:00Z' }, { i: 1, ts: '2020-01-01T00:00:01Z' }]);
    await a.close();
    expect(compactStream(s.dir, 'aged', { evictOlderThanMs: 60_000 }).evicted).toHaveLength(1);
    const fresh = await givenAppended('aged', 2, 2);
    const list = await streamInfo('aged');
    expect(list).toMatchObject({ records: 2, bytes: fresh.end - old.next });
    const all = await readAll('aged', 0);
    expect(all.entries.map((e) => [e.record.i, e.cursor])).toEqual([[2, fresh.cursors[0]], [3, fresh.cursors[1]]]);
  });
});

describe('GET /api/streams/:name/records?since= and /segments (the viewer\'s jumps, #18 point 14)', () => {
  const at = (i: number) => new Date(Date.UTC(2026, 11, 7, 10, 0, i)).toISOString();
  it('since starts at the first record at or after a time, through compacted segments; segments lists them with their times', async () => {
    const cursors: number[] = [];
    const append = async (from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        const r = await request(s, 'POST', '/api/streams/timed', { headers: { ...s.auth, ...JSON_TYPE }, body: JSON.stringify({ type: 'tick', i, ts: at(i) }) });
        cursors.push(r.json.cursor);
      }
    };
    await append(0, 12);
    compactStream(s.dir, 'timed');
    await append(12, 12);
    compactStream(s.dir, 'timed');
    await append(24, 6);
    const segs = await get('/api/streams/timed/segments');
    expect(segs.status).toBe(200);
    expect(segs.json.segments.map((g: { first: number; count: number; firstTs: string; lastTs: string }) => [g.first, g.count, g.firstTs, g.lastTs])).toEqual([
      [cursors[0], 12, at(0), at(11)],
      [cursors[12], 12, at(12), at(23)],
    ]);
    expect(segs.json.live.base).toBe(cursors[24]);
    for (const i of [0, 5, 12, 17, 24, 29]) {
      const r = await get(`/api/streams/timed/records?since=${encodeURIComponent(at(i))}&limit=2`);
      expect(r.status, r.text).toBe(200);
      expect(r.json.cursor).toBe(cursors[i]);
      expect(r.json.records.map((e: Entry) => e.record.i)).toEqual([i, i + 1].filter((k) => k < 30));
    }
    // Between two records: the later one; after the last: the end, no records.
    const half = new Date(Date.UTC(2026, 11, 7, 10, 0, 16, 500)).toISOString();
    expect((await get(`/api/streams/timed/records?since=${half}&limit=1`)).json.records[0].record.i).toBe(17);
    const late = await get(`/api/streams/timed/records?since=${encodeURIComponent(at(99))}`);
    expect(late.json.records).toEqual([]);
    expect((await get('/api/streams/timed/records?since=yesterday')).status).toBe(400);
    expect((await get(`/api/streams/timed/records?since=${at(1)}&cursor=0`)).status).toBe(400);
    expect((await get('/api/streams/nosuch/segments')).status).toBe(404);
  });
});
