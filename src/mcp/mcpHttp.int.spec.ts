import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cli, CLI, httpClient, value } from './testing/mcpClients.js';


let dir = '';
let url = '';
let server: ChildProcess | undefined;
const clients: Client[] = [];
const connect = async (token?: string): Promise<Client> => {
  const c = await httpClient(url, token);
  clients.push(c);
  return c;
};

/** Starts `framelog mcp --http --json ARGS` and resolves with its URL. */
function startServer(args: string[]): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, [CLI, 'mcp', '--http', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, url: new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`framelog mcp --http exited ${code}: ${err}`)));
  }) };
}

beforeAll(async () => {
  dir = join(mkdtempSync(join(tmpdir(), 'framelog-mcp-http-')), 'store');
  expect(cli(['init', '--dir', dir]).code).toBe(0);
  const s = startServer(['--dir', dir, '--rate', '1000', '--burst', '1000']);
  server = s.child;
  url = await s.url;
}, 30_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  server?.kill('SIGTERM');
});

/** A raw request to the endpoint, for what a client library would never send. */
function raw(headers: Record<string, string>, body = ''): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end(body);
  });
}

const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

describe('framelog mcp --http (streamable HTTP, the SDK\'s own client)', () => {
  it('a client without the token reads but cannot write; a wrong token is refused at the door', async () => {
    const anon = await connect();
    expect(await value(anon, 'state')).toMatchObject({ latestMerge: null });
    const r = await call(anon, 'emit', { writer: 'agent-a', counters: { n: 1 } });
    expect(r.error).toMatch(/writer: this session cannot write: it started without a token/);
    await expect(connect('not-the-token-at-all-0000000000000000')).rejects.toThrow(/401|not this store's token/);
    // The writer token of another store (minted from another secret) is refused as well.
    const other = join(mkdtempSync(join(tmpdir(), 'framelog-mcp-other-')), 'store');
    expect(cli(['init', '--dir', other]).code).toBe(0);
    const foreign = cli(['token', '--dir', other, '--writer', 'agent-a']).out.trim();
    await expect(connect(foreign)).rejects.toThrow(/401|not this store's token/);
  });

  it('a writer token writes as its writer only; the store token as any writer it names; concurrent clients lose nothing', async () => {
    const bToken = cli(['token', '--dir', dir, '--writer', 'agent-b']).out.trim();
    expect(bToken).toMatch(/^fw1\.[A-Za-z0-9_-]{43}\.agent-b$/);
    const b = await connect(bToken);
    expect(await value(b, 'whoami')).toMatchObject({ writer: 'agent-b' });
    expect((await call(b, 'emit', { writer: 'agent-a', counters: { n: 1 } })).error).toMatch(/agent-a refused: this session writes as agent-b \(its token is a writer token\)/);
    // A forged writer token (agent-b's MAC, agent-a's name) is refused.
    await expect(connect(bToken.replace(/agent-b$/, 'agent-a'))).rejects.toThrow(/401|not this store's token/);

    const admin = await connect(cli(['token', '--dir', dir]).out.trim());
    expect((await call(admin, 'emit', { counters: { n: 1 } })).error).toMatch(/writer: missing/);
    const N = 25;
    const out = await Promise.all([
      ...Array.from({ length: N }, (_, i) => value(b, 'emit', { counters: { n: 1 }, items: { log: [{ id: `b${i}` }] } })),
      ...Array.from({ length: N }, (_, i) => value(admin, 'emit', { writer: i % 2 ? 'agent-c' : 'agent-d', counters: { n: 1 }, items: { log: [{ id: `a${i}` }] } })),
    ]);
    expect(new Set(out.map((r) => `${r.frame}/${r.writer}/${r.seq}`)).size).toBe(2 * N);
    expect(cli(['merge', '--dir', dir]).code).toBe(0);
    expect(await value(b, 'state')).toMatchObject({ counters: { n: 2 * N }, collections: { log: 2 * N } });
    expect(cli(['verify', '--dir', dir]).code).toBe(0);
  });

  it('refuses a Host or Origin that is not loopback (DNS rebinding), and a session that changes its token', async () => {
    const token = cli(['token', '--dir', dir]).out.trim();
    expect(await raw({ host: 'evil.example:80', authorization: `Bearer ${token}` }, INIT)).toBe(403);
    expect(await raw({ origin: 'http://evil.example', authorization: `Bearer ${token}` }, INIT)).toBe(403);
    expect(await raw({ authorization: `Bearer ${token}` }, INIT)).toBe(200);
    const c = await connect(token);
    const sid = (c.transport as { sessionId?: string } | undefined)?.sessionId;
    expect(sid).toBeTruthy();
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(await raw({ 'mcp-session-id': sid!, 'mcp-protocol-version': '2025-03-26' }, list)).toBe(401);
  });

  it('holds at most --max-sessions sessions, and closes one left idle for --idle seconds', async () => {
    const s = startServer(['--dir', dir, '--max-sessions', '1', '--idle', '1']);
    try {
      const u = await s.url;
      const first = await httpClient(u);
      clients.push(first);
      await expect(httpClient(u)).rejects.toThrow(/429|maximum of 1 MCP sessions/);
      await new Promise((r) => setTimeout(r, 2500)); // idle: swept
      const next = await httpClient(u);
      clients.push(next);
      expect(await value(next, 'state')).toHaveProperty('latestMerge');
      expect((await call(first, 'state')).ok).toBe(false); // its session is gone
    } finally {
      s.child.kill('SIGTERM');
    }
  });
});
