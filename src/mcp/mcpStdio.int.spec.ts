import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVICE_URLS, serviceForTests } from '../transport/testing/services.js';
import { call, cli, CLI, stdioClient, value } from './testing/mcpClients.js';

const redis = await serviceForTests('redis');

const clients: Client[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const c of children.splice(0)) c.kill('SIGTERM');
});

/** `framelog serve` (the viewer's API) on the store; resolves with its URL. */
function serveViewer(dir: string): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
}


function newStore(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'framelog-mcp-')), 'store');
  expect(cli(['init', '--dir', dir]).code).toBe(0);
  return dir;
}

async function agent(dir: string, ...args: string[]): Promise<Client> {
  const c = await stdioClient(['--dir', dir, ...args]);
  clients.push(c);
  return c;
}

describe('framelog mcp over stdio (the SDK\'s own client)', () => {
  it('two agents emit concurrently and lose nothing; a retried emit is applied once; the CLI reads what they wrote and verify is green', async () => {
    const dir = newStore();
    const [a, b] = await Promise.all([agent(dir, '--writer', 'agent-a', '--rate', '1000', '--burst', '1000'), agent(dir, '--writer', 'agent-b', '--rate', '1000', '--burst', '1000')]);
    const tools = (await a.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['append_stream', 'conflicts', 'diff', 'emit', 'events', 'read_stream', 'resolve', 'state', 'whoami']);

    const N = 40;
    const emits = (c: Client, w: string) => Array.from({ length: N }, (_, i) => value(c, 'emit', { counters: { done: 1 }, items: { log: [{ id: `${w}-${i}` }] } }));
    const results = await Promise.all([...emits(a, 'a'), ...emits(b, 'b')]);
    const ids = new Set(results.map((r) => `${r.frame}/${r.writer}/${r.seq}`));
    expect(ids.size).toBe(2 * N); // every emit its own identity: no seq handed out twice

    // A call whose answer was lost is retried with the same key: the same delta, applied once.
    const first = await value(a, 'emit', { key: 'unit-7', counters: { retried: 1 } });
    const again = await value(a, 'emit', { key: 'unit-7', counters: { retried: 1 } });
    expect(again).toMatchObject({ frame: first.frame, seq: first.seq, sha256: first.sha256, retried: true, written: false });

    expect(cli(['merge', '--dir', dir]).code).toBe(0);
    const st = await value<{ counters: Record<string, number>; collections: Record<string, number> }>(b, 'state');
    expect(st.counters).toEqual({ done: 2 * N, retried: 1 });
    expect(st.collections).toEqual({ log: 2 * N });
    const page = await value<{ total: number; items: unknown[]; next?: number }>(b, 'state', { collection: 'log', limit: 30 });
    expect(page).toMatchObject({ total: 2 * N, next: 30 });
    expect(page.items).toHaveLength(30);

    // The same store through the CLI, while the agents stay connected.
    const state = JSON.parse(cli(['state', '--dir', dir]).out) as { counters: Record<string, number> };
    expect(state.counters.done).toBe(2 * N);
    expect(cli(['verify', '--dir', dir]).code).toBe(0);
  }, 120_000);

  it('a task board: both agents claim the same task, the conflict shows, one agent resolves it, the state follows', async () => {
    const dir = newStore();
    const [a, b] = await Promise.all([agent(dir, '--writer', 'agent-a'), agent(dir, '--writer', 'agent-b')]);
    // The viewer's server runs on the same store the whole time.
    const viewer = await serveViewer(dir);
    await value(a, 'emit', { set: { task: { t1: { title: 'write the docs', status: 'open' } } } });
    expect(cli(['merge', '--dir', dir]).code).toBe(0);
    await value(a, 'emit', { set: { task: { t1: { owner: 'agent-a', status: 'claimed' } } } });
    await value(b, 'emit', { set: { task: { t1: { owner: 'agent-b', status: 'claimed' } } } });
    expect(cli(['merge', '--dir', dir]).code).toBe(0);

    const open = await value<{ total: number; items: Array<{ conflict: string; kind: string; field: string; winner: { writer: string }; losers: Array<{ writer: string }> }> }>(a, 'conflicts', { open: true });
    expect(open.total).toBe(1); // owner differs; status is the same value on both sides, no conflict
    const c = open.items[0];
    expect(c).toMatchObject({ kind: 'field', field: 'owner', winner: { writer: 'agent-b' } });
    expect(c.losers.map((l) => l.writer)).toEqual(['agent-a']);

    // agent-a (the loser) settles it by handing the task to agent-a after all: a resolution delta, as agent-a.
    const r = await value<{ resolves: string[]; put: Array<{ writer: string }> }>(a, 'resolve', { ids: [c.conflict], winner: 'agent-a' });
    expect(r.resolves).toEqual([c.conflict]);
    expect(r.put[0].writer).toBe('agent-a');
    expect(cli(['merge', '--dir', dir]).code).toBe(0);
    expect((await value<{ total: number }>(b, 'conflicts', { open: true })).total).toBe(0);
    const t1 = await value<{ fields: Record<string, unknown> }>(b, 'state', { type: 'task', id: 't1' });
    expect(t1.fields).toEqual({ title: 'write the docs', status: 'claimed', owner: 'agent-a' });
    const whole = await value<{ state: unknown }>(a, 'state', { whole: true });
    expect(whole.state).toEqual(JSON.parse(cli(['state', '--dir', dir]).out));
    const seen = (await (await fetch(`${viewer}/api/state`)).json()) as { entities: { task: { t1: Record<string, unknown> } } };
    expect(seen.entities.task.t1.owner).toBe('agent-a');
    const viewerConflicts = (await (await fetch(`${viewer}/api/conflicts`)).json()) as unknown;
    expect(JSON.stringify(viewerConflicts)).toContain(c.conflict);
    const diff = await value<{ fields: Array<{ id: string; field: string }> }>(b, 'diff', { from: 0, to: 2 });
    expect(diff.fields.map((f) => f.field).sort()).toContain('owner');
    // The CLI sees the conflict as resolved too.
    const cliConflicts = cli(['conflicts', '--dir', dir, '--json']).out.trim().split('\n').map((l) => JSON.parse(l) as { resolvedBy?: unknown });
    expect(cliConflicts).toHaveLength(1);
    expect(cliConflicts[0].resolvedBy).toBeDefined();
    expect(cli(['verify', '--dir', dir]).code).toBe(0);
  }, 120_000);

  it('refuses what it must, naming the field: another writer, bad values, protocol breaks, bad stream names, over the rate and the size; nothing is written', async () => {
    const dir = newStore();
    const a = await agent(dir, '--writer', 'agent-a', '--rate', '1', '--burst', '3', '--max-delta-bytes', '300');
    const refused = async (args: Record<string, unknown>, name = 'emit') => {
      const r = await call(a, name, args);
      expect(r.ok).toBe(false);
      return r.error!;
    };
    expect(await refused({ writer: 'agent-b', counters: { n: 1 } })).toMatch(/writer: agent-b refused: this session writes as agent-a/);
    expect(await refused({ counters: { n: 'x' } })).toMatch(/counters\.n/);
    expect(await refused({ frame: -1, counters: { n: 1 } })).toMatch(/frame/);
    expect(await refused({ counters: { n: 2 ** 60 } })).toMatch(/counters\.n/); // past the protocol's counter step
    expect(await refused({ set: { task: { t1: { note: 'x'.repeat(400) } } } })).toMatch(/over this server's limit of 300 bytes/);
    expect(await refused({ name: '../etc', record: { a: 1 } }, 'append_stream')).toMatch(/name: "\.\.\/etc" is not a stream name/);
    expect(await refused({ ids: ['m9.0'], value: 1 }, 'resolve')).toMatch(/m9\.0: no such conflict/);
    expect(await refused({ ids: ['c1'], value: 1, keep: true }, 'resolve')).toMatch(/exactly one of value, winner and keep/);
    expect(await refused({ collection: 'nope' }, 'state')).toMatch(/collection: no collection nope/);
    expect(readdirSync(join(dir, 'inbox')).filter((f) => !f.startsWith('.'))).toEqual([]); // nothing was written
    expect(existsSync(join(dir, 'streams', 'etc.ndjson'))).toBe(false);

    // The rate: a burst of 3 (the refusals above took none), then one per second.
    for (let i = 0; i < 3; i++) await value(a, 'emit', { counters: { n: 1 } });
    expect(await refused({ counters: { n: 1 } })).toMatch(/rate limit of 1 writes\/s per session \(burst 3\) reached; retry in \d+ ms/);
  }, 60_000);

  it('named streams: an agent appends (stamped with its writer), reads back with a filter, and the CLI reads the same file', async () => {
    const dir = newStore();
    const a = await agent(dir, '--writer', 'agent-a');
    await value(a, 'append_stream', { name: 'receipts', record: { task: 't1', status: 'done' } });
    await value(a, 'append_stream', { name: 'receipts', record: { task: 't2', status: 'failed' } });
    expect((await call(a, 'append_stream', { name: 'receipts', record: { writer: 'agent-b' } })).error).toMatch(/writer: agent-b refused/);
    const r = await value<{ records: Array<{ record: Record<string, unknown> }>; next: number }>(a, 'read_stream', { name: 'receipts', where: ['status=done'] });
    expect(r.records.map((x) => x.record)).toEqual([expect.objectContaining({ task: 't1', status: 'done', writer: 'agent-a' })]);
    const lines = cli(['read', 'receipts', '--dir', dir]).out.trim().split('\n');
    expect(lines).toHaveLength(2);
    // A session without --writer keeps the writer of its first write.
    const free = await agent(dir);
    await value(free, 'emit', { writer: 'agent-z', counters: { n: 1 } });
    expect((await call(free, 'emit', { writer: 'agent-y', counters: { n: 1 } })).error).toMatch(/agent-y refused: this session writes as agent-z, the writer of its first write/);
  }, 60_000);
});

describe.skipIf(!redis)('framelog mcp through the store\'s transport (redis)', () => {
  it('emits go through the engine the store names; the merger merges them; the session is told the engine\'s durability', async () => {
    const root = mkdtempSync(join(tmpdir(), 'framelog-mcp-redis-'));
    const dir = join(root, 'merger');
    const base = ['--transport', 'redis', '--url', SERVICE_URLS.redis, '--store', `mcp_${process.pid}_${Date.now().toString(36)}`];
    expect(cli(['transport', 'init', ...base, '--dir', dir]).code).toBe(0);
    try {
      const stderr: string[] = [];
      const a = await stdioClient(['--dir', dir, '--writer', 'agent-a'], stderr);
      clients.push(a);
      const who = await value<{ transport: string; durability: string }>(a, 'whoami');
      expect(who.transport).toBe('redis');
      for (let i = 0; i < 5; i++) await value(a, 'emit', { counters: { n: 1 }, key: `k${i}` });
      await value(a, 'emit', { counters: { n: 1 }, key: 'k0' }); // a retry: the engine drops the copy, or the merge does
      expect(readdirSync(join(dir, 'inbox')).filter((f) => !f.startsWith('.'))).toEqual([]); // nothing went to the local inbox
      const merge = cli(['merge', '--dir', dir, '--json']);
      expect(merge.code, merge.err).toBe(0);
      expect(await value(a, 'state')).toMatchObject({ counters: { n: 5 } });
      expect(cli(['verify', '--dir', dir]).code).toBe(0);
      if (!/appendfsync always/.test(who.durability)) expect(stderr.join('')).toMatch(/framelog mcp: redis: /);
    } finally {
      expect(cli(['transport', 'drop', ...base]).code).toBe(0);
    }
  }, 60_000);
});
