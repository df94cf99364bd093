import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceForTests, SERVICE_URLS } from '../testing/services.js';
import type { MergerLease, PublishedMerge } from '../transport.js';
import { postgresNames } from './postgresNames.js';
import { dropPostgresTransportStore, openPostgresTransport, type PostgresTransport } from './postgresTransport.js';

const ok = await serviceForTests('postgres');
const url = SERVICE_URLS.postgres;
const DIST = fileURLToPath(new URL('../../../dist/transport/postgres/postgresTransport.js', import.meta.url));
const stores: string[] = [];
const opened: PostgresTransport[] = [];
const children: ChildProcess[] = [];
const freshStore = (): string => {
  const s = `l_${randomBytes(5).toString('hex')}`;
  stores.push(s);
  return s;
};
const open = async (store: string): Promise<PostgresTransport> => {
  const t = await openPostgresTransport({ url, store });
  opened.push(t);
  return t;
};
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const t of opened) await t.close();
  for (const store of stores) await dropPostgresTransportStore({ url, store });
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const merge = (index: number, bundle: number[] | string): PublishedMerge => ({
  index, frame: index * 10, recordSha256: `sha-${index}`, bundle: typeof bundle === 'string' ? Buffer.from(bundle) : Uint8Array.from(bundle),
});
const readAll = async (t: PostgresTransport, from: number): Promise<PublishedMerge[]> => {
  const out: PublishedMerge[] = [];
  for await (const m of t.failover.readMerges(from)) out.push(m);
  return out;
};

/** A lease holder in its own process, importing the built library; resolves with its token once it holds the lease. */
function holderProcess(store: string, ttlMs: number): Promise<{ child: ChildProcess; token: number }> {
  const code = `
    const { pathToFileURL } = await import('node:url');
    const [dist, url, store, ttl] = process.argv.slice(1);
    const { openPostgresTransport } = await import(pathToFileURL(dist).href);
    const t = await openPostgresTransport({ url, store });
    const lease = await t.failover.acquireLease({ holder: 'child-' + process.pid, ttlMs: Number(ttl) });
    process.stdout.write('held ' + lease.token + '\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, DIST, url, store, String(ttlMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /held (\d+)/.exec(out);
      if (m) resolve({ child, token: Number(m[1]) });
    });
    child.on('exit', (code, signal) => reject(new Error(`lease holder child exited (${code ?? signal}) before holding: ${out}`)));
  });
}

describe.skipIf(!ok)('postgres transport: lease and published merges', () => {
  it('two contenders: exactly one holds at a time (sampled through three handovers); tokens only grow', async () => {
    const store = freshStore();
    const a = await open(store), b = await open(store);
    const ttlMs = 600;
    const holding = new Set<string>();
    let overlaps = 0, samples = 0;
    const sampler = setInterval(() => {
      samples++;
      if (holding.size > 1) overlaps++;
    }, 5);
    const tokens: number[] = [];
    const waits: string[] = [];
    const contender = async (t: PostgresTransport, name: string, rounds: number): Promise<void> => {
      for (let i = 0; i < rounds; i++) {
        const lease = await t.failover.acquireLease({ holder: name, ttlMs, onWait: (h) => waits.push(`${name} waits for ${h}`) });
        expect(holding.size).toBe(0);
        holding.add(name);
        tokens.push(lease.token);
        await sleep(400 + Math.random() * 200); // holds across at least one renewal
        expect(lease.lost.aborted).toBe(false);
        holding.delete(name);
        await lease.release();
        await sleep(30); // lets the other one in
      }
    };
    try {
      await Promise.all([contender(a, 'A', 2), contender(b, 'B', 2)]);
    } finally {
      clearInterval(sampler);
    }
    expect(overlaps).toBe(0);
    expect(samples).toBeGreaterThan(100);
    expect(tokens).toHaveLength(4);
    expect([...tokens].sort((x, y) => x - y)).toEqual(tokens); // strictly increasing, in acquisition order
    expect(new Set(tokens).size).toBe(4);
    expect(waits.some((w) => /A waits for B|B waits for A/.test(w))).toBe(true);
  });

  it('publishMerges: bundles come back byte for byte; a stale token is rejected with lease-lost and writes nothing; a gap is diverged', async () => {
    const store = freshStore();
    const a = await open(store), b = await open(store);
    expect(await a.failover.publishedHead()).toBeUndefined();
    const la = await a.failover.acquireLease({ holder: 'A', ttlMs: 3000 });
    const first = [merge(1, [0xff, 0x00, 0xfe]), merge(2, ''), merge(3, '{"x":1}')];
    await a.failover.publishMerges(first, la);
    await a.failover.publishMerges([], la); // nothing: no-op
    expect(await b.failover.publishedHead()).toEqual({ index: 3, frame: 30, recordSha256: 'sha-3' });
    const back = await readAll(b, 1);
    expect(back.map((m) => ({ ...m, bundle: Buffer.from(m.bundle).toString('hex') }))).toEqual(first.map((m) => ({ ...m, bundle: Buffer.from(m.bundle).toString('hex') })));
    expect((await readAll(b, 3)).map((m) => m.index)).toEqual([3]);
    expect(await readAll(b, 4)).toEqual([]);

    // Gaps and repeats are diverged, with nothing written.
    await expect(a.failover.publishMerges([merge(5, 'x')], la)).rejects.toMatchObject({ code: 'diverged' });
    await expect(a.failover.publishMerges([merge(3, 'x')], la)).rejects.toMatchObject({ code: 'diverged' });
    await expect(a.failover.publishMerges([merge(4, 'x'), merge(6, 'y')], la)).rejects.toMatchObject({ code: 'diverged' });
    expect((await readAll(b, 1)).map((m) => m.index)).toEqual([1, 2, 3]);

    // B takes over; A's token is stale from then on.
    await la.release();
    const lb = await b.failover.acquireLease({ holder: 'B', ttlMs: 3000 });
    expect(lb.token).toBeGreaterThan(la.token);
    const stale = await a.failover.publishMerges([merge(4, 'from A')], la).catch((e: unknown) => e);
    expect(stale).toMatchObject({ code: 'lease-lost', message: expect.stringMatching(/token \d+ of A is no longer current/) });
    expect(await a.failover.publishedHead()).toEqual({ index: 3, frame: 30, recordSha256: 'sha-3' });
    // A lease object from the right token but forged: still compared by token.
    const forged: MergerLease = { ...la, token: lb.token + 1 };
    await expect(a.failover.publishMerges([merge(4, 'forged')], forged)).rejects.toMatchObject({ code: 'lease-lost' });
    await b.failover.publishMerges([merge(4, 'from B')], lb);
    expect(Buffer.from((await readAll(a, 4))[0].bundle).toString()).toBe('from B');
    const fences = await (async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query(`SELECT "index", fence FROM "framelog_${store}".merges ORDER BY "index"`)).rows.map((r) => [Number(r.index), Number(r.fence)]);
      } finally {
        await c.end();
      }
    })();
    expect(fences).toEqual([[1, la.token], [2, la.token], [3, la.token], [4, lb.token]]);
    await lb.release();
  });

  it('a holder whose session ends (terminated by the server) sees lost within ttl/3 and another merger takes over', async () => {
    const store = freshStore();
    const a = await open(store), b = await open(store);
    const ttlMs = 900;
    const la = await a.failover.acquireLease({ holder: 'A', ttlMs });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const key = postgresNames(store).leaseLockKey;
    try {
      const pids = (await c.query(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`, [key])).rows.map((r) => r.pid);
      expect(pids).toHaveLength(1);
      const t0 = performance.now();
      await c.query('SELECT pg_terminate_backend($1)', [pids[0]]);
      // The holder may learn it before the terminate's own answer comes back: lost already aborted.
      if (!la.lost.aborted) await new Promise((r) => la.lost.addEventListener('abort', r, { once: true }));
      expect(performance.now() - t0).toBeLessThan(ttlMs / 3 + 500);
      expect(la.lost.reason).toMatchObject({ code: 'lease-lost' });
      const lb = await b.failover.acquireLease({ holder: 'B', ttlMs });
      expect(lb.token).toBeGreaterThan(la.token);
      await la.release(); // a no-op once lost
      await lb.release();
    } finally {
      await c.end();
    }
  });

  it('a waiting merger stops waiting when its signal aborts or its transport closes; closing a holder frees the lease', async () => {
    const store = freshStore();
    const a = await open(store), b = await open(store);
    const la = await a.failover.acquireLease({ holder: 'A', ttlMs: 1200 });
    const abort = new AbortController();
    let waited = 0;
    const p = b.failover.acquireLease({ holder: 'B', ttlMs: 1200, signal: abort.signal, onWait: () => waited++ });
    await sleep(700);
    abort.abort(new Error('stop waiting'));
    await expect(p).rejects.toThrow(/stop waiting/);
    expect(waited).toBeGreaterThanOrEqual(2);
    expect(la.lost.aborted).toBe(false);
    // Closing a transport ends its wait too, and its lease once held.
    const c = await openPostgresTransport({ url, store });
    const waiting = c.failover.acquireLease({ holder: 'C', ttlMs: 1200 });
    const waitEnds = expect(waiting).rejects.toMatchObject({ code: 'closed' }); // handled before close rejects it
    await sleep(100);
    await c.close();
    await waitEnds;
    await expect(c.failover.acquireLease({ holder: 'C', ttlMs: 1200 })).rejects.toMatchObject({ code: 'closed' });
    await a.close();
    expect(la.lost.aborted).toBe(true);
    expect(la.lost.reason).toMatchObject({ code: 'lease-lost', message: expect.stringMatching(/transport was closed/) });
    const lb = await b.failover.acquireLease({ holder: 'B', ttlMs: 1200 }); // free again at once
    await lb.release();
  });

  it('a lease holder in a child process SIGKILLed: the waiting merger takes over within ttl (measured)', async () => {
    expect(existsSync(DIST), `build dist first (npx tsc -p tsconfig.build.json): ${DIST}`).toBe(true);
    const store = freshStore();
    const ttlMs = 2000;
    await (await open(store)).failover.publishedHead(); // the schema exists before the child opens it
    const { child, token } = await holderProcess(store, ttlMs);
    const b = await open(store);
    const waits: string[] = [];
    let acquiredAt = 0;
    const taking = b.failover.acquireLease({ holder: 'B', ttlMs, onWait: (h) => waits.push(h) }).then((l) => ((acquiredAt = performance.now()), l));
    await sleep(ttlMs * 1.5 + Math.random() * (ttlMs / 4)); // past several renewals; a random phase against the waiter's polls
    expect(acquiredAt).toBe(0);
    expect(waits.length).toBeGreaterThan(2);
    expect(waits.at(-1)).toBe(`child-${child.pid}`);
    const killedAt = performance.now();
    child.kill('SIGKILL');
    const lb = await taking;
    const took = acquiredAt - killedAt;
    console.log(`postgres lease: SIGKILLed holder replaced after ${Math.round(took)} ms (ttl ${ttlMs} ms, poll ${ttlMs / 4} ms)`);
    expect(took).toBeLessThan(ttlMs + ttlMs / 4);
    expect(lb.token).toBeGreaterThan(token);
    await lb.release();
  });

  it('a lease holder in a child process frozen (SIGSTOP): PostgreSQL ends its idle session after ttl and the waiting merger takes over', async () => {
    expect(existsSync(DIST), `build dist first (npx tsc -p tsconfig.build.json): ${DIST}`).toBe(true);
    const store = freshStore();
    const ttlMs = 1500;
    await (await open(store)).failover.publishedHead();
    const { child, token } = await holderProcess(store, ttlMs);
    const b = await open(store);
    let acquiredAt = 0;
    const taking = b.failover.acquireLease({ holder: 'B', ttlMs }).then((l) => ((acquiredAt = performance.now()), l));
    await sleep(ttlMs + Math.random() * (ttlMs / 3)); // a random phase against the renewals and the polls
    expect(acquiredAt).toBe(0);
    const stoppedAt = performance.now();
    child.kill('SIGSTOP');
    const lb = await taking;
    const took = acquiredAt - stoppedAt;
    console.log(`postgres lease: frozen holder replaced after ${Math.round(took)} ms (ttl ${ttlMs} ms, poll ${ttlMs / 4} ms)`);
    expect(took).toBeLessThan(ttlMs + ttlMs / 4 + 500); // ≤ ttl since its last renewal, plus one poll, plus a loaded machine's slack
    expect(lb.token).toBeGreaterThan(token);
    // Woken up, the old holder can no longer publish: its token is stale.
    const stale: MergerLease = { token, holder: `child-${child.pid}`, lost: new AbortController().signal, release: async () => undefined };
    await expect(b.failover.publishMerges([merge(1, 'late')], stale)).rejects.toMatchObject({ code: 'lease-lost' });
    child.kill('SIGKILL');
    await lb.release();
  });
});
