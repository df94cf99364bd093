import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initStore } from '../store/storeContext.js';
import { createServer } from './createServer.js';
import { JSON_TYPE, delta, request, serve, tempStore, type Reply, type Served } from './testing/serverFixture.js';
import { rotateToken } from './token.js';

/** Every refusal is a JSON error body with a code and a one-line message. */
function refused(r: Reply, status: number, code: string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(r.json).toMatchObject({ error: code, message: expect.any(String) });
  expect(r.json.message).not.toContain('\n');
}

describe('tokens', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve();
  });
  afterAll(() => s.close());

  it('writes need the bearer token: none, wrong, malformed, in the URL or in a cookie are all 401', async () => {
    const body = delta(1, 'w');
    const none = await request(s, 'POST', '/api/deltas', { headers: JSON_TYPE, body });
    refused(none, 401, 'token-required');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    refused(await request(s, 'POST', '/api/deltas', { headers: { ...JSON_TYPE, authorization: 'Bearer wrong-token-wrong-token-wrong-token' }, body }), 401, 'token-invalid');
    refused(await request(s, 'POST', '/api/deltas', { headers: { ...JSON_TYPE, authorization: `Bearer ${s.token}x` }, body }), 401, 'token-invalid');
    refused(await request(s, 'POST', '/api/deltas', { headers: { ...JSON_TYPE, authorization: `Basic ${s.token}` }, body }), 401, 'token-invalid');
    refused(await request(s, 'POST', `/api/deltas?token=${s.token}`, { headers: JSON_TYPE, body }), 400, 'bad-parameter');
    const cookie = await request(s, 'POST', '/api/session', { headers: s.auth });
    const c = String(cookie.headers['set-cookie']).split(';')[0];
    refused(await request(s, 'POST', '/api/deltas', { headers: { ...JSON_TYPE, cookie: c }, body }), 401, 'token-required');
    refused(await request(s, 'POST', '/api/streams/x', { headers: JSON_TYPE, body: '{}' }), 401, 'token-required');
    refused(await request(s, 'POST', '/api/read-tokens'), 401, 'token-required');
    expect(fs.readdirSync(path.join(s.dir, 'inbox'))).toEqual([]);
    expect(fs.existsSync(path.join(s.dir, 'streams', 'x.ndjson'))).toBe(false);
    expect((await request(s, 'POST', '/api/deltas', { headers: { ...JSON_TYPE, ...s.auth }, body })).status).toBe(201);
  });

  it('reads are open on loopback, but a wrong credential given on a read is refused', async () => {
    expect((await request(s, 'GET', '/api/health')).status).toBe(200);
    refused(await request(s, 'GET', '/api/health', { headers: { authorization: 'Bearer nope' } }), 401, 'token-invalid');
    refused(await request(s, 'GET', '/api/health?token=v1.1.abc'), 401, 'token-invalid');
  });

  it('rotating the token revokes the old one at the next request', async () => {
    const old = s.auth;
    const fresh = rotateToken(s.dir);
    refused(await request(s, 'POST', '/api/read-tokens', { headers: old }), 401, 'token-invalid');
    expect((await request(s, 'POST', '/api/read-tokens', { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(201);
    s.auth = { authorization: `Bearer ${fresh}` };
    s.token = fresh;
  });
});

describe('--read-token: every read needs a credential', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({ readToken: true, queryTokenTtlMs: 300 });
  });
  afterAll(() => s.close());

  it('refuses a read without one, accepts the bearer, the session cookie and a fresh ?token=', async () => {
    refused(await request(s, 'GET', '/api/merges'), 401, 'token-required');
    refused(await request(s, 'GET', '/api/streams/x/events'), 401, 'token-required');
    expect((await request(s, 'GET', '/api/merges', { headers: s.auth })).status).toBe(200);
    const session = await request(s, 'POST', '/api/session', { headers: s.auth });
    const setCookie = String(session.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/api/);
    expect((await request(s, 'GET', '/api/merges', { headers: { cookie: setCookie.split(';')[0] } })).status).toBe(200);
    refused(await request(s, 'GET', '/api/merges', { headers: { cookie: 'framelog_session=v1.99999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }), 401, 'token-required');
    const minted = await request(s, 'POST', '/api/read-tokens', { headers: s.auth });
    expect(minted.status).toBe(201);
    expect((await request(s, 'GET', `/api/merges?token=${minted.json.token}`)).status).toBe(200);
    // A query token is not a session cookie, and the store token itself never goes in a URL.
    refused(await request(s, 'GET', '/api/merges', { headers: { cookie: `framelog_session=${minted.json.token}` } }), 401, 'token-required');
    refused(await request(s, 'GET', `/api/merges?token=${s.token}`), 401, 'token-invalid');
    await new Promise((r) => setTimeout(r, 350));
    refused(await request(s, 'GET', `/api/merges?token=${minted.json.token}`), 401, 'token-invalid');
  });

  it('the OpenAPI description stays public', async () => {
    expect((await request(s, 'GET', '/api/openapi.json')).status).toBe(200);
  });
});

describe('names, frames and cursors cannot reach outside the store', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve();
  });
  afterAll(() => s.close());

  const names = ['%2e%2e', '..', '.', '..%2f..%2fetc%2fpasswd', '%2e%2e%2fjournal%2fmerges', '%2Fetc%2Fpasswd', 'a%00b', 'a%2fb', 'a%5cb', '%20', 'x'.repeat(129), 'caf%C3%A9'];
  it.each(names)('stream name %s is refused on read, append and SSE', async (name) => {
    refused(await request(s, 'GET', `/api/streams/${name}/records`), 400, 'bad-name');
    refused(await request(s, 'GET', `/api/streams/${name}/events`), 400, 'bad-name');
    refused(await request(s, 'POST', `/api/streams/${name}`, { headers: { ...JSON_TYPE, ...s.auth }, body: '{}' }), 400, 'bad-name');
  });

  it('nothing was created outside streams/', () => {
    expect(fs.readdirSync(path.join(s.dir, 'streams'))).toEqual([]);
    expect(fs.readdirSync(path.dirname(s.dir)).sort()).toEqual(['store']);
  });

  it('an unnormalised ../ in the path reaches no file', async () => {
    for (const p of ['/api/streams/../../framelog.json', '/api/../../etc/passwd', '/api/streams/..%2f..%2fframelog.json/records']) {
      const r = await request(s, 'GET', p);
      expect([400, 404], p).toContain(r.status);
      expect(r.json?.error, p).toBeDefined();
      expect(r.text).not.toContain('maxDeltaBytes');
    }
  });

  it('frame, cursor and limit parameters are whole numbers only', async () => {
    for (const q of ['at=-1', 'at=%2e%2e', 'at=1%00', 'at=%2Fetc', 'at=0x10', 'at=1.0', 'at=']) refused(await request(s, 'GET', `/api/state?${q}`), 400, 'bad-frame');
    refused(await request(s, 'GET', '/api/merges/events?cursor=..%2f'), 400, 'bad-cursor');
    refused(await request(s, 'GET', '/api/merges/events', { headers: { 'last-event-id': '-3' } }), 400, 'bad-cursor');
    refused(await request(s, 'GET', '/api/merges?limit=1e3'), 400, 'bad-parameter');
  });
});

describe('size limits', () => {
  let s: Served;
  beforeAll(async () => {
    const dir = tempStore();
    fs.rmSync(dir, { recursive: true });
    initStore(dir, { maxDeltaBytes: 2048 });
    s = await serve({ maxBodyBytes: 64 * 1024, maxRecordBytes: 1024 }, dir);
  });
  afterAll(() => s.close());

  it('a body over the server limit is 413', async () => {
    const big = '{"frame":1,"writer":"w","utc":"2026-04-19T14:30:00Z","meta":{"pad":"' + 'x'.repeat(70 * 1024) + '"}}';
    refused(await request(s, 'POST', '/api/deltas', { headers: { ...JSON_TYPE, ...s.auth }, body: big }), 413, 'body-too-large');
    refused(await request(s, 'POST', '/api/streams/big', { headers: { ...JSON_TYPE, ...s.auth }, body: big }), 413, 'body-too-large');
  });

  it("a delta over the plan's maxDeltaBytes is 413, and nothing of the batch is written", async () => {
    const pad = '{"frame":1,"writer":"w","utc":"2026-04-19T14:30:00Z","meta":{"pad":"' + 'x'.repeat(3000) + '"}}';
    refused(await request(s, 'POST', '/api/deltas', { headers: { 'content-type': 'application/x-ndjson', ...s.auth }, body: delta(1, 'a') + '\n' + pad }), 413, 'delta-too-large');
    expect(fs.readdirSync(path.join(s.dir, 'inbox'))).toEqual([]);
  });

  it('a stream record over maxRecordBytes is 413, and nothing of the batch is appended', async () => {
    const body = '{"a":1}\n{"pad":"' + 'x'.repeat(2000) + '"}\n';
    refused(await request(s, 'POST', '/api/streams/big', { headers: { 'content-type': 'application/x-ndjson', ...s.auth }, body }), 413, 'record-too-large');
    expect(fs.statSync(path.join(s.dir, 'streams', 'big.ndjson'), { throwIfNoEntry: false })?.size ?? 0).toBe(0);
  });
});

describe('Host and Origin (DNS rebinding, cross-site pages) and CORS', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({ allowHosts: ['viewer.internal'], corsOrigins: ['https://app.example'] });
  });
  afterAll(() => s.close());

  it('refuses a foreign Host with 421, on reads, writes and SSE', async () => {
    for (const host of ['attacker.example', `attacker.example:${0}`, '127.0.0.1.nip.io', 'localhost.attacker.example', '[::2]', '']) {
      const h = host.endsWith(':0') ? host.replace(':0', `:${s.port}`) : host;
      refused(await request(s, 'GET', '/api/health', { headers: { host: h } }), 421, 'host-not-allowed');
      refused(await request(s, 'GET', '/api/merges/events', { headers: { host: h } }), 421, 'host-not-allowed');
      refused(await request(s, 'POST', '/api/deltas', { headers: { host: h, ...JSON_TYPE, ...s.auth }, body: delta(1, 'w') }), 421, 'host-not-allowed');
    }
    for (const host of [`127.0.0.1:${s.port}`, `localhost:${s.port}`, `[::1]:${s.port}`, 'viewer.internal', `VIEWER.internal:${s.port}`]) {
      expect((await request(s, 'GET', '/api/health', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('refuses a request with two Host fields with 400 (RFC 9112), whatever they say', async () => {
    for (const [a, b] of [[`127.0.0.1:${s.port}`, `127.0.0.1:${s.port}`], [`127.0.0.1:${s.port}`, 'attacker.example']]) {
      const sock = net.connect(s.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => (got += d));
      sock.write(`GET /api/health HTTP/1.1\r\nHost: ${a}\r\nHost: ${b}\r\nConnection: close\r\n\r\n`);
      await new Promise<void>((resolve) => sock.on('close', () => resolve()));
      expect(got).toMatch(/^HTTP\/1.1 400/);
      expect(got).toContain('2 Host header fields');
    }
  });

  it('refuses a foreign Origin with 403; the same origin passes', async () => {
    for (const origin of ['https://attacker.example', 'null', `http://localhost:${s.port + 1}`, `http://attacker.example:${s.port}`, 'file://', 'chrome-extension://abc']) {
      refused(await request(s, 'GET', '/api/health', { headers: { origin } }), 403, 'origin-not-allowed');
      refused(await request(s, 'GET', '/api/streams/x/events', { headers: { origin } }), 403, 'origin-not-allowed');
      refused(await request(s, 'POST', '/api/deltas', { headers: { origin, ...JSON_TYPE, ...s.auth }, body: delta(1, 'w') }), 403, 'origin-not-allowed');
    }
    for (const origin of [`http://127.0.0.1:${s.port}`, `http://localhost:${s.port}`]) {
      const r = await request(s, 'GET', '/api/health', { headers: { origin } });
      expect(r.status, origin).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('CORS is off except for allow-listed origins, whose preflight is answered', async () => {
    const listed = await request(s, 'GET', '/api/health', { headers: { origin: 'https://app.example' } });
    expect(listed.status).toBe(200);
    expect(listed.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(listed.headers.vary).toMatch(/Origin/);
    const pre = await request(s, 'OPTIONS', '/api/deltas', { headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-headers']).toMatch(/authorization/);
    refused(await request(s, 'OPTIONS', '/api/deltas', { headers: { origin: 'https://other.example', 'access-control-request-method': 'POST' } }), 403, 'origin-not-allowed');
    const plain = await serve();
    try {
      refused(await request(plain, 'GET', '/api/health', { headers: { origin: 'https://app.example' } }), 403, 'origin-not-allowed');
      expect((await request(plain, 'OPTIONS', '/api/deltas')).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('SSE connection caps (429)', () => {
  let s: Served;
  const open: http.ClientRequest[] = [];
  beforeAll(async () => {
    s = await serve({ maxSse: 2, maxSsePerToken: 1 });
  });
  afterEach(() => {
    for (const r of open.splice(0)) r.destroy();
  });
  afterAll(() => s.close());

  function connect(headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: s.port, path: '/api/merges/events', headers }, (res) => {
        if (res.statusCode === 200) {
          open.push(req);
          res.once('data', () => resolve({ status: 200, body: '' }));
          return;
        }
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
  }

  it('caps connections per credential and in total, and frees a slot when a client leaves', async () => {
    expect((await connect()).status).toBe(200);
    const perToken = await connect();
    expect(perToken.status).toBe(429);
    expect(JSON.parse(perToken.body).error).toBe('too-many-streams');
    expect((await connect(s.auth)).status).toBe(200);
    const total = await connect(s.auth);
    expect(total.status).toBe(429);
    expect(JSON.parse(total.body).message).toMatch(/maximum of 2/);
    open.shift()!.destroy();
    await expect.poll(() => s.server.sse.stats().clients).toBe(1);
    expect((await connect()).status).toBe(200);
  });
});

describe('timeouts and binding', () => {
  it('has non-zero header and request timeouts, and closes a connection that never finishes its headers', async () => {
    const s = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    try {
      expect(s.server.app.server.headersTimeout).toBe(300);
      expect(s.server.app.server.requestTimeout).toBe(600);
      const sock = net.connect(s.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => (got += d));
      sock.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nX-Slow: `);
      const t0 = Date.now();
      await new Promise<void>((resolve) => sock.on('close', () => resolve()));
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(got).toMatch(/^HTTP\/1.1 408|^$/);
    } finally {
      await s.close();
    }
  });

  it('binds to 127.0.0.1 by default, and warns when bound elsewhere with reads open', () => {
    const dir = tempStore();
    expect(createServer({ dir }).options.host).toBe('127.0.0.1');
    expect(createServer({ dir }).warnings).toEqual([]);
    expect(createServer({ dir, host: '0.0.0.0' }).warnings.join()).toMatch(/without a token on reads/);
    expect(createServer({ dir, host: '0.0.0.0', readToken: true }).warnings).toEqual([]);
  });
});
