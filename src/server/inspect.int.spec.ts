import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMergerOn } from '../store/openStore.js';
import { initStore, openStoreContext } from '../store/storeContext.js';
import { NDJSON_TYPE, delta, request, serve, type Served } from './testing/serverFixture.js';

let s: Served;
const get = (target: string) => request(s, 'GET', target);
const post = (target: string, body: string, type = NDJSON_TYPE) => request(s, 'POST', target, { headers: { ...s.auth, ...type }, body });

function merge(): void {
  const m = openMergerOn(openStoreContext(s.dir));
  try {
    m.merge();
  } finally {
    m.close();
  }
}

beforeAll(async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-inspect-')), 'store');
  initStore(dir, { writers: ['w1', 'w2', 'w3'] });
  s = await serve({}, dir);
  await post('/api/deltas', [delta(1, 'w1', { events: [{ type: 'migration', id: 'm1' }, { type: 'birth' }] }), delta(1, 'w2', { status: 'fallback' }), delta(2, 'w1', { counters: { n: 1 } })].join('\n') + '\n');
  merge();
  await post('/api/deltas', [delta(1, 'w3', { counters: { n: 2 }, events: [{ type: 'migration', id: 'm2' }] }), delta(3, 'w2', { counters: { n: 1 } })].join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'inbox', 'frame-000003.w1.0.abcdef012345.json'), '{"frame":3,"writer":"w1"'); // torn: quarantined
  merge();
  fs.mkdirSync(path.join(dir, 'views', 'demo'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'views', 'demo', 'picture.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  fs.writeFileSync(path.join(dir, 'views', 'demo', 'secret.bin'), 'x');
  await post('/api/streams/register', [
    { type: 'lifecycle', agent: 'a0', event: 'start', frame: 1, pid: 10 },
    { type: 'lifecycle', agent: 'a1', event: 'start', frame: 1, pid: 11 },
    { type: 'lifecycle', agent: 'a1', event: 'crash', frame: 3 },
    { type: 'lifecycle', agent: 'a1', event: 'restart', frame: 4, pid: 12 },
    { type: 'lifecycle', agent: 'a0', event: 'stop', frame: 5 },
  ].map((r) => JSON.stringify(r)).join('\n') + '\n');
  await post('/api/streams/receipts', [
    { type: 'receipt', agent: 'a0', frame: 1, status: 'ok' }, { type: 'receipt', agent: 'a0', frame: 2, status: 'rejected' },
    { type: 'receipt', agent: 'a1', frame: 2, status: 'ok' }, { type: 'receipt', agent: 'a1', frame: 5, status: 'ok' },
  ].map((r) => JSON.stringify(r)).join('\n') + '\n');
});
afterAll(() => s.close());

describe('inspect API (the viewer\'s extra reads)', () => {
  it('GET /api/plan answers the plan in force', async () => {
    const r = await get('/api/plan');
    expect(r.status).toBe(200);
    expect(r.json.writers).toEqual(['w1', 'w2', 'w3']);
  });

  it('GET /api/lanes gives each writer\'s status per merge: ok, late, fallback, missing, quarantined', async () => {
    const r = await get('/api/lanes');
    expect(r.status).toBe(200);
    expect(r.json.writers).toEqual(['w1', 'w2', 'w3']);
    const byFrame = Object.fromEntries(r.json.merges.map((m: { frame: number; cells: Record<string, { status: string }> }) => [m.frame, Object.fromEntries(Object.entries(m.cells).map(([w, c]) => [w, c.status]))]));
    expect(byFrame[1]).toEqual({ w1: 'ok', w2: 'fallback', w3: 'missing' });
    expect(byFrame[2]).toEqual({ w1: 'ok', w2: 'missing', w3: 'missing' });
    expect(byFrame[3]).toEqual({ w1: 'quarantined', w2: 'ok', w3: 'late' });
    const window = await get('/api/lanes?frame=2..2');
    expect(window.json.merges.map((m: { frame: number }) => m.frame)).toEqual([2]);
    expect((await get('/api/lanes?limit=0')).status).toBe(400);
  });

  it('GET /api/archive answers a merge\'s archived deltas as received, by writer', async () => {
    const r = await get('/api/archive?merge=1&writer=w2');
    expect(r.status).toBe(200);
    expect(r.json.deltas).toHaveLength(1);
    expect(r.json.deltas[0].delta).toEqual(JSON.parse(delta(1, 'w2', { status: 'fallback' })));
    expect((await get('/api/archive?merge=3')).json.deltas.map((d: { delta: { writer: string } }) => d.delta.writer).sort()).toEqual(['w2', 'w3']);
    expect((await get('/api/archive')).status).toBe(400);
    expect((await get('/api/archive?merge=1&writer=..')).status).toBe(400);
  });

  it('GET /api/quarantine lists what was set aside and why', async () => {
    const r = await get('/api/quarantine');
    expect(r.json.records).toHaveLength(1);
    expect(r.json.records[0]).toMatchObject({ file: 'frame-000003.w1.0.abcdef012345.json', merge: 3 });
    expect(r.json.records[0].why).toBeTruthy();
  });

  it('GET /api/event-types counts the event types', async () => {
    expect((await get('/api/event-types')).json.types).toEqual([{ type: 'migration', count: 2 }, { type: 'birth', count: 1 }]);
  });

  it('GET /api/views/ lists derived view files and serves them, refusing other paths', async () => {
    expect((await get('/api/views/')).json.files).toEqual(['demo/picture.svg']);
    const svg = await get('/api/views/demo/picture.svg');
    expect(svg.status).toBe(200);
    expect(svg.headers['content-type']).toContain('image/svg+xml');
    expect(svg.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await get('/api/views/demo/secret.bin')).status).toBe(404);
    expect((await get('/api/views/demo/missing.svg')).status).toBe(404);
    for (const p of ['/api/views/..%2fframelog.json', '/api/views/demo/..%2f..%2fframelog.json', '/api/views/%2e%2e/framelog.json']) {
      const r = await get(p);
      expect([400, 404], p).toContain(r.status);
      expect(r.text).not.toContain('maxDeltaBytes');
    }
  });

  it('GET /api/dispatches cuts the register into lives with a phase per frame from the receipts', async () => {
    const r = await get('/api/dispatches');
    expect(r.status).toBe(200);
    const d = r.json.dispatches as Array<{ id: string; start: string; end: string | null; from: number; to: number; pid: number; frames: Array<{ frame: number; phase: string }> }>;
    expect(d.map((x) => [x.id, x.start, x.from, x.end, x.to, x.pid])).toEqual([
      ['a0@1', 'start', 1, 'stop', 5, 10], ['a1@1', 'start', 1, 'crash', 3, 11], ['a1@4', 'restart', 4, null, 5, 12],
    ]);
    expect(d[0].frames.map((f) => f.phase)).toEqual(['working', 'degraded', 'idle', 'idle', 'idle']);
    expect(d[1].frames.map((f) => f.phase)).toEqual(['idle', 'working', 'crashed']);
    expect(d[2].frames.map((f) => f.phase)).toEqual(['idle', 'working']);
    expect([r.json.first, r.json.last]).toEqual([1, 5]);
    expect((await get('/api/dispatches?register=nope')).status).toBe(404);
    expect((await get('/api/dispatches?register=..')).status).toBe(400);
  });

  it('the viewer is served at / (any non-API path opens the app), under the Host and Origin checks', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-viewer-files-'));
    fs.mkdirSync(path.join(root, 'assets'));
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>v</title>');
    fs.writeFileSync(path.join(root, 'assets', 'app-1.js'), 'export {}');
    process.env.FRAMELOG_VIEWER_DIR = root;
    const v = await serve({}, s.dir);
    try {
      const page = await request(v, 'GET', '/?view=state&frame=3');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.headers['content-security-policy']).toContain("default-src 'self'");
      expect((await request(v, 'GET', '/some/deep/link')).text).toContain('<title>v</title>');
      expect((await request(v, 'GET', '/assets/app-1.js')).headers['content-type']).toContain('javascript');
      expect((await request(v, 'GET', '/assets/nope.js')).status).toBe(404);
      expect((await request(v, 'GET', '/%2e%2e/%2e%2e/etc/passwd')).text).toContain('<title>v</title>');
      expect((await request(v, 'GET', '/api/nothing')).json.error).toBe('not-found');
      expect((await request(v, 'GET', '/', { headers: { host: 'evil.example:80' } })).status).toBe(421);
      expect((await request(v, 'GET', '/', { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    } finally {
      delete process.env.FRAMELOG_VIEWER_DIR;
      await v.close();
    }
  });
});
