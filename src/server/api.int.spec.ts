import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMergerOn } from '../store/openStore.js';
import { openStoreContext } from '../store/storeContext.js';
import { API_ROUTES } from './createServer.js';
import { JSON_TYPE, NDJSON_TYPE, delta, request, serve, type Served } from './testing/serverFixture.js';

let s: Served;
const get = (target: string, headers: Record<string, string> = {}) => request(s, 'GET', target, { headers });
const post = (target: string, body: string | Buffer, headers: Record<string, string> = {}) => request(s, 'POST', target, { headers: { ...s.auth, ...JSON_TYPE, ...headers }, body });

function merge(): void {
  const m = openMergerOn(openStoreContext(s.dir));
  try {
    m.merge();
  } finally {
    m.close();
  }
}

beforeAll(async () => {
  s = await serve();
  const deltas = [
    delta(1, 'w1', { items: { posts: [{ id: 1, title: 'a' }] }, counters: { total: 1 }, set: { agents: { '42': { status: 'idle' } } }, events: [{ type: 'migration', id: 'f-1' }] }),
    delta(2, 'w1', { set: { agents: { '42': { status: 'busy' } } }, events: [{ type: 'birth', id: 'b-1' }] }),
    delta(2, 'w2', { set: { agents: { '42': { status: 'paused' } } }, counters: { total: 2 } }),
    delta(3, 'w2', { counters: { total: 3 } }),
  ];
  const r = await post('/api/deltas', deltas.join('\n') + '\n', NDJSON_TYPE);
  expect(r.status).toBe(201);
  merge();
});
afterAll(() => s.close());

describe('read API', () => {
  it('GET /api/merges pages the merge records by index and filters by frame', async () => {
    const all = await get('/api/merges');
    expect(all.status).toBe(200);
    expect(all.json.count).toBe(3);
    expect(all.json.records.map((r: { frame: number }) => r.frame)).toEqual([1, 2, 3]);
    expect(all.json.next).toBeNull();
    const p1 = await get('/api/merges?limit=2');
    expect(p1.json.records.map((r: { frame: number }) => r.frame)).toEqual([1, 2]);
    expect(p1.json.next).toBe(2);
    const p2 = await get(`/api/merges?limit=2&cursor=${p1.json.next}`);
    expect(p2.json.records.map((r: { frame: number }) => r.frame)).toEqual([3]);
    expect(p2.json.next).toBeNull();
    const ranged = await get('/api/merges?frame=2..');
    expect(ranged.json.records.map((r: { frame: number }) => r.frame)).toEqual([2, 3]);
    const one = await get('/api/merges?frame=2');
    expect(one.json.records.map((r: { frame: number }) => r.frame)).toEqual([2]);
    expect((await get('/api/merges?cursor=3')).json.records).toEqual([]);
  });

  it('GET /api/merges refuses a bad cursor, limit, frame or unknown parameter', async () => {
    expect((await get('/api/merges?cursor=4')).status).toBe(409);
    expect((await get('/api/merges?cursor=-1')).json.error).toBe('bad-cursor');
    expect((await get('/api/merges?limit=0')).status).toBe(400);
    expect((await get('/api/merges?limit=1001')).status).toBe(400);
    expect((await get('/api/merges?frame=abc')).json.error).toBe('bad-frame');
    expect((await get('/api/merges?frame=5..2')).json.error).toBe('bad-frame');
    expect((await get('/api/merges?limt=2')).json).toMatchObject({ error: 'bad-parameter' });
    expect((await get('/api/merges?cursor=1&cursor=2')).status).toBe(400);
  });

  it('GET /api/state is byte-identical to framelog state, at any frame', async () => {
    const latest = await get('/api/state');
    expect(latest.status).toBe(200);
    expect(latest.headers['framelog-frame']).toBe('3');
    expect(latest.text).toBe('{"counters":{"total":6},"entities":{"agents":{"42":{"status":"paused"}}},"items":{"posts":[{"id":1,"title":"a"}]}}');
    const at1 = await get('/api/state?at=1');
    expect(at1.json.counters).toEqual({ total: 1 });
    const at100 = await get('/api/state?at=100');
    expect(at100.text).toBe(latest.text);
    const before = await get('/api/state?at=0');
    expect(before.json).toEqual({ counters: {}, entities: {}, items: {} });
    expect(before.headers['framelog-frame']).toBeUndefined();
  });

  it('GET /api/state refuses a bad frame', async () => {
    for (const bad of ['-1', '1.5', 'x', '1e3', '99999999999999999999', '%00', '..%2f']) {
      const r = await get(`/api/state?at=${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.json.error, bad).toBe('bad-frame');
    }
  });

  it('GET /api/diff says what changed between two frames', async () => {
    const r = await get('/api/diff?from=1&to=2');
    expect(r.status).toBe(200);
    expect(r.json.fields).toEqual([expect.objectContaining({ type: 'agents', id: '42', field: 'status', old: 'idle', new: 'paused', writer: 'w2' })]);
    expect((await get('/api/diff?from=1')).status).toBe(400);
    expect((await get('/api/diff?from=1&to=b')).json.error).toBe('bad-frame');
  });

  it('GET /api/conflicts filters by frame range, kind, type, id, field, writer', async () => {
    const all = await get('/api/conflicts');
    expect(all.status).toBe(200);
    expect(all.json.total).toBe(1);
    expect(all.json.records[0]).toMatchObject({ merge: 2, kind: 'field', type: 'agents', id: '42', field: 'status' });
    for (const q of ['frame=2', 'frame=1..2', 'kind=field', 'type=agents', 'id=42', 'field=status', 'writer=w2', 'writer=w1']) {
      expect((await get(`/api/conflicts?${q}`)).json.total, q).toBe(1);
    }
    for (const q of ['frame=3..', 'kind=item', 'type=posts', 'id=41', 'field=load', 'writer=w9', 'collection=posts']) {
      expect((await get(`/api/conflicts?${q}`)).json.total, q).toBe(0);
    }
    expect((await get('/api/conflicts?kind=bogus')).status).toBe(400);
    expect((await get('/api/conflicts?writer=../etc')).json.error).toBe('bad-name');
    expect((await get('/api/conflicts?writer=%2e%2e')).json.error).toBe('bad-name');
    expect((await get('/api/conflicts?writer=a%00b')).json.error).toBe('bad-name');
    expect((await get('/api/conflicts?cursor=5')).status).toBe(409);
  });

  it('GET /api/events filters by type and frame range, and pages', async () => {
    const all = await get('/api/events');
    expect(all.json.records.map((e: { event: { type: string } }) => e.event.type)).toEqual(['migration', 'birth']);
    expect((await get('/api/events?type=birth')).json.records).toEqual([expect.objectContaining({ merge: 2, writer: 'w1', event: { type: 'birth', id: 'b-1' } })]);
    expect((await get('/api/events?frame=..1')).json.total).toBe(1);
    expect((await get('/api/events?frame=3..')).json.total).toBe(0);
    const p = await get('/api/events?limit=1');
    expect(p.json.next).toBe(1);
    expect((await get('/api/events?limit=1&cursor=1')).json.records[0].event.type).toBe('birth');
    expect((await get('/api/events?frame=a..b')).status).toBe(400);
  });

  it('GET /api/health reports pending deltas, the last merge and the lag', async () => {
    const r0 = await get('/api/health');
    expect(r0.json).toMatchObject({ ok: true, pending: { deltas: 0 }, lastMerge: { index: 2, frame: 3 }, lag: { framesBehind: 0 } });
    await post('/api/deltas', delta(7, 'w3'));
    const r1 = await get('/api/health');
    expect(r1.json.pending).toEqual({ deltas: 1, minFrame: 7, maxFrame: 7 });
    expect(r1.json.lag.framesBehind).toBe(4);
    expect(r1.json.lag.oldestPendingMs).toBeGreaterThanOrEqual(0);
    merge();
  });

  it('GET /api/openapi.json describes every route', async () => {
    const r = await get('/api/openapi.json');
    expect(r.status).toBe(200);
    expect(r.json.openapi).toBe('3.1.0');
    for (const route of API_ROUTES) {
      const p = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
      expect(r.json.paths[p]?.[route.method.toLowerCase()], `${route.method} ${route.url}`).toBeDefined();
    }
    expect(r.json.paths['/api/deltas'].post.security).toEqual([{ bearer: [] }]);
  });

  it('unknown endpoints and methods are JSON 404s', async () => {
    const r = await get('/api/nothing');
    expect(r.status).toBe(404);
    expect(r.json.error).toBe('not-found');
    expect((await request(s, 'DELETE', '/api/merges')).status).toBe(404);
  });
});

describe('streams API', () => {
  it('POST /api/streams/:name appends one object or NDJSON; GET lists and reads from a cursor', async () => {
    const a = await post('/api/streams/receipts', JSON.stringify({ type: 'task', n: 1 }));
    expect(a.status).toBe(201);
    expect(a.json).toMatchObject({ stream: 'receipts', appended: 1, cursor: 0 });
    const b = await post('/api/streams/receipts', '{"type":"task","n":2}\n{"type":"other","n":3}\n', NDJSON_TYPE);
    expect(b.json).toMatchObject({ appended: 2, cursor: a.json.next });
    const list = await get('/api/streams');
    expect(list.json.streams).toEqual([expect.objectContaining({ name: 'receipts', records: 3, bytes: b.json.next })]);
    const all = await get('/api/streams/receipts/records');
    expect(all.json.records.map((r: { record: { n: number } }) => r.record.n)).toEqual([1, 2, 3]);
    expect(all.json.next).toBe(b.json.next);
    const page1 = await get('/api/streams/receipts/records?limit=1');
    expect(page1.json.records).toHaveLength(1);
    const page2 = await get(`/api/streams/receipts/records?cursor=${page1.json.next}&limit=5`);
    expect(page2.json.records.map((r: { record: { n: number } }) => r.record.n)).toEqual([2, 3]);
    const typed = await get('/api/streams/receipts/records?type=other');
    expect(typed.json.records.map((r: { record: { n: number } }) => r.record.n)).toEqual([3]);
    const end = await get(`/api/streams/receipts/records?cursor=${b.json.next}`);
    expect(end.json).toMatchObject({ records: [], next: b.json.next });
  });

  it('refuses a missing stream (404), a cursor inside a record or past the end (409), a bad record (400)', async () => {
    const missing = await get('/api/streams/nope/records');
    expect(missing.status).toBe(404);
    expect(missing.text).not.toContain(s.dir);
    const inside = await get('/api/streams/receipts/records?cursor=3');
    expect(inside.status).toBe(409);
    expect(inside.json.error).toBe('bad-cursor');
    expect(inside.text).not.toContain(s.dir);
    expect((await get('/api/streams/receipts/records?cursor=999999')).status).toBe(409);
    expect((await post('/api/streams/receipts', '[1,2]')).json.error).toBe('bad-record');
    expect((await post('/api/streams/receipts', '{"ts":"yesterday"}')).status).toBe(400);
    expect((await post('/api/streams/receipts', '{"a":1}\nnot json\n', NDJSON_TYPE)).status).toBe(400);
    expect((await post('/api/streams/receipts', '')).json.error).toBe('empty-body');
    expect((await get('/api/streams/receipts/records')).json.records).toHaveLength(3); // nothing of the refused appends landed
  });
});

describe('POST /api/deltas', () => {
  it('validates exactly like framelog put: all or nothing, a one-line reason naming the line', async () => {
    const before = fs.readdirSync(path.join(s.dir, 'inbox'));
    const r = await post('/api/deltas', [delta(20, 'ok'), '{"frame":20,"writer":"bad","utc":"2026-04-19T14:30:00Z","counters":{"x":"nope"}}'].join('\n'), NDJSON_TYPE);
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('bad-delta');
    expect(r.json.message).toMatch(/^body:2: /);
    expect(r.json.message).not.toContain('\n');
    expect(fs.readdirSync(path.join(s.dir, 'inbox'))).toEqual(before);
    for (const bad of ['{"frame":1e999,"writer":"w","utc":"2026-04-19T14:30:00Z"}', '{"frame":1,"writer":"../x","utc":"2026-04-19T14:30:00Z"}', 'not json', '{"frame":1,"writer":"w","utc":"2026-04-19T14:30:00Z","status":"fallback","items":{}}']) {
      const x = await post('/api/deltas', bad);
      expect(x.status, bad).toBe(400);
    }
    expect(fs.readdirSync(path.join(s.dir, 'inbox'))).toEqual(before);
  });

  it('keeps the delta byte for byte, and answers 200 for a copy already pending', async () => {
    const body = '{ "writer_id": "w5",  "frame": 30, "utc": "2026-04-19T14:30:00+02:00", "counters": {"z": 1} }';
    const r = await post('/api/deltas', body);
    expect(r.status).toBe(201);
    expect(fs.readFileSync(path.join(s.dir, r.json.put[0].file), 'utf8')).toBe(body);
    const again = await post('/api/deltas', body);
    expect(again.status).toBe(200);
    expect(again.json.put[0].written).toBe(false);
    merge();
  });

  it('refuses other content types (415) and an empty body (400)', async () => {
    expect((await post('/api/deltas', delta(40, 'w'), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('/api/deltas', delta(40, 'w'), { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await post('/api/deltas', '')).status).toBe(400);
    expect((await post('/api/deltas', '\n\n', NDJSON_TYPE)).json.error).toBe('empty-body');
  });
});

describe('conflicts open and resolved, POST /api/resolve (PROTOCOL v1.1 §2a)', () => {
  it('resolves by id with the token: a resolution delta lands in the inbox; after the merge the conflict is closed', async () => {
    const open = await get('/api/conflicts?open=true');
    expect(open.json.records.map((c: { conflict: string }) => c.conflict)).toContain('m2.0');
    expect((await get('/api/conflicts?open=maybe')).status).toBe(400);
    const noToken = await request(s, 'POST', '/api/resolve', { headers: JSON_TYPE, body: JSON.stringify({ ids: ['m2.0'], keep: true }) });
    expect(noToken.status).toBe(401);
    const bad: Array<[unknown, RegExp]> = [
      [{ ids: ['m2.0'] }, /give exactly one of value, winner, policy, keep \(got none\)/],
      [{ ids: ['m2.0'], keep: true, value: 1 }, /got value, keep/],
      [{ ids: [], keep: true }, /ids: must be a non-empty list/],
      [{ ids: ['m99.0'], keep: true }, /^m99\.0: no such conflict; nothing was written$/],
      [{ ids: ['m2.0'], winner: 'nobody' }, /has no side written by nobody/],
      [{ ids: ['m2.0'], policy: 'biggest' }, /^policy: unknown policy "biggest"/],
      [{ ids: ['m2.0'], keep: true, extra: 1 }, /^extra: unknown key/],
      [{ ids: ['m2.0'], keep: true, as: '../x' }, /as: must be a writer name/],
    ];
    const inbox = () => fs.readdirSync(path.join(s.dir, 'inbox'));
    const before = inbox();
    for (const [body, want] of bad) {
      const r = await post('/api/resolve', JSON.stringify(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.message, JSON.stringify(body)).toMatch(want);
    }
    expect(inbox()).toEqual(before);
    const r = await post('/api/resolve', JSON.stringify({ ids: ['m2.0'], winner: 'w1', as: 'human.ana' }));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ resolves: ['m2.0'], put: [{ writer: 'human.ana', written: true }], deltas: [{ set: { agents: { '42': { status: 'busy' } } }, resolves: ['m2.0'] }] });
    merge();
    const closed = await get('/api/conflicts?open=false');
    expect(closed.json.records).toEqual([expect.objectContaining({ conflict: 'm2.0', resolvedBy: expect.objectContaining({ writer: 'human.ana' }) })]);
    expect((await get('/api/state')).json.entities.agents['42'].status).toBe('busy');
  });
});
