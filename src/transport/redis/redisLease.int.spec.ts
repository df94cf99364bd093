import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { serviceForTests, SERVICE_URLS } from '../testing/services.js';
import type { MergerLease, PublishedMerge } from '../transport.js';
import { dropRedisStore } from './dropRedisStore.js';
import { openRedisTransport, type RedisTransport } from './redisTransport.js';

const ok = await serviceForTests('redis');
const url = SERVICE_URLS.redis;
const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../../../dist');
const tmp = mkdtempSync(join(tmpdir(), 'framelog-redis-lease-'));
const opened: RedisTransport[] = [];
const stores = new Set<string>();
let admin: Redis | undefined;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const freshStore = (): string => {
  const s = `l-${randomBytes(6).toString('hex')}`;
  stores.add(s);
  return s;
};
const open = async (store: string): Promise<RedisTransport> => {
  const t = await openRedisTransport({ url, store });
  opened.push(t);
  return t;
};
const client = (): Redis => (admin ??= new Redis(url, { protocol: 2 }));
const merge = (index: number, bundle: Buffer): PublishedMerge => ({ index, frame: index * 10, recordSha256: `sha-${index}`, bundle });
const collect = async (it: AsyncIterable<PublishedMerge>): Promise<PublishedMerge[]> => {
  const out: PublishedMerge[] = [];
  for await (const m of it) out.push(m);
  return out;
};

afterEach(async () => {
  for (const t of opened.splice(0)) await t.close();
  for (const s of stores) await dropRedisStore(url, s);
  stores.clear();
});
afterAll(async () => {
  await admin?.quit();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!ok)('redis merger lease', () => {
  it('two contenders: one holder at a time, tokens strictly increasing, the waiter told who holds it', async () => {
    const store = freshStore();
    const [a, b] = [await open(store), await open(store)];
    const holding = new Set<string>();
    const tokens: number[] = [];
    const waitedOn = new Set<string>();
    let overlaps = 0, samples = 0, wrongValue = 0;
    // A TTL well above the holds (~100 ms): a hold the loaded machine stalls past the TTL rightly
    // loses the lease, and would show here as an overlap. After a release, a contender pauses up to
    // a poll (ttl / 4) so that the waiter, which polls, gets its turn.
    const ttlMs = 1200;
    const until = Date.now() + 4000;
    const contender = async (t: RedisTransport, name: string): Promise<number> => {
      let held = 0;
      while (Date.now() < until) {
        const lease = await t.failover.acquireLease({ holder: name, ttlMs, onWait: (h) => waitedOn.add(`${name} waits on ${h}`) });
        tokens.push(lease.token);
        held++;
        holding.add(name);
        for (let i = 0; i < 12; i++) {
          samples++;
          if (holding.size > 1) overlaps++;
          if ((await client().get(t.keys.lease)) !== `${name}|${lease.token}`) wrongValue++;
          await sleep(5);
        }
        holding.delete(name);
        await lease.release();
        await sleep(Math.random() * (ttlMs / 4));
      }
      return held;
    };
    const [heldA, heldB] = await Promise.all([contender(a, 'A'), contender(b, 'B')]);
    console.log(`redis lease, two contenders: A held it ${heldA} times, B ${heldB} times; ${samples} samples`);
    expect(samples).toBeGreaterThan(50);
    expect(overlaps).toBe(0);
    expect(wrongValue).toBe(0);
    expect(heldA).toBeGreaterThan(1);
    expect(heldB).toBeGreaterThan(1);
    expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
    expect(new Set(tokens).size).toBe(tokens.length);
    expect([...waitedOn].sort()).toEqual(['A waits on B', 'B waits on A']);
  });

  it('a holder whose lease was taken over learns it through `lost`', async () => {
    const store = freshStore();
    const [a, b] = [await open(store), await open(store)];
    const la = await a.failover.acquireLease({ holder: 'A', ttlMs: 300 });
    await client().del(a.keys.lease); // as if it had expired
    const lb = await b.failover.acquireLease({ holder: 'B', ttlMs: 300 });
    expect(lb.token).toBeGreaterThan(la.token);
    const t0 = Date.now();
    while (!la.lost.aborted && Date.now() - t0 < 2000) await sleep(10);
    expect(la.lost.aborted).toBe(true);
    expect(la.lost.reason).toMatchObject({ code: 'lease-lost' });
    expect((la.lost.reason as Error).message).toMatch(/now held by B/);
    expect(lb.lost.aborted).toBe(false);
    await la.release(); // a no-op: it must not delete B's lease
    expect(await client().get(b.keys.lease)).toBe(`B|${lb.token}`);
  });

  it('publishes merges behind the fencing token: bytes intact, stale token → lease-lost, gaps → diverged, nothing written', async () => {
    const store = freshStore();
    const [a, b] = [await open(store), await open(store)];
    expect(await a.failover.publishedHead()).toBeUndefined();
    const la = await a.failover.acquireLease({ holder: 'A', ttlMs: 2000 });
    const binary = Buffer.from([0, 255, 0x80, 0x7b, 0, 10, 13]);
    await a.failover.publishMerges([merge(1, binary), merge(2, Buffer.alloc(0))], la);
    await a.failover.publishMerges([], la); // nothing: a no-op
    expect(await b.failover.publishedHead()).toEqual({ index: 2, frame: 20, recordSha256: 'sha-2' });
    const all = await collect(b.failover.readMerges(1));
    expect(all.map((m) => [m.index, m.frame, m.recordSha256, Buffer.from(m.bundle).toString('hex')])).toEqual([[1, 10, 'sha-1', binary.toString('hex')], [2, 20, 'sha-2', '']]);
    expect((await collect(b.failover.readMerges(2))).map((m) => m.index)).toEqual([2]);
    expect(await collect(b.failover.readMerges(3))).toEqual([]);

    await la.release();
    const lb = await b.failover.acquireLease({ holder: 'B', ttlMs: 2000 });
    expect(lb.token).toBeGreaterThan(la.token);
    const stale: MergerLease = la;
    await expect(a.failover.publishMerges([merge(3, binary)], stale)).rejects.toMatchObject({ name: 'FramelogError', code: 'lease-lost' });
    await expect(b.failover.publishMerges([merge(4, binary)], lb)).rejects.toMatchObject({ code: 'diverged' });
    await expect(b.failover.publishMerges([merge(3, binary), merge(5, binary)], lb)).rejects.toMatchObject({ code: 'diverged' });
    expect(await client().xlen(b.keys.merges)).toBe(2);
    expect((await b.failover.publishedHead())?.index).toBe(2);

    // Many merges, more than one page of reading.
    await b.failover.publishMerges(Array.from({ length: 150 }, (_, i) => merge(3 + i, Buffer.from(`bundle ${3 + i}`))), lb);
    const read = await collect(a.failover.readMerges(1));
    expect(read.map((m) => m.index)).toEqual(Array.from({ length: 152 }, (_, i) => i + 1));
    expect(Buffer.from(read[151].bundle).toString()).toBe('bundle 152');
    await lb.release();
  });

  it('a holder killed with SIGKILL in a child process is replaced within the TTL', async () => {
    expect(existsSync(join(dist, 'transport/redis/redisTransport.js')), 'build dist first: npx tsc -p tsconfig.build.json').toBe(true);
    const store = freshStore();
    const ttlMs = 1500;
    const script = join(tmp, 'holder.mjs');
    writeFileSync(script, [
      "import { pathToFileURL } from 'node:url';",
      'const [dist, url, store, ttl] = process.argv.slice(2);',
      "const { openRedisTransport } = await import(pathToFileURL(`${dist}/transport/redis/redisTransport.js`).href);",
      'const t = await openRedisTransport({ url, store });',
      "const lease = await t.failover.acquireLease({ holder: 'child', ttlMs: Number(ttl) });",
      'process.stdout.write(`held ${lease.token}\\n`);',
      'setInterval(() => {}, 1000);',
    ].join('\n'));
    const child = spawn(process.execPath, [script, dist, url, store, String(ttlMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const childToken = await new Promise<number>((res, rej) => {
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /held (\d+)/.exec(out);
          if (m) res(Number(m[1]));
        });
        child.on('exit', (code) => rej(new Error(`lease holder exited ${code} before holding`)));
      });
      const b = await open(store);
      const waitedOn: string[] = [];
      const taking = b.failover.acquireLease({ holder: 'B', ttlMs, onWait: (h) => waitedOn.push(h) });
      await sleep(ttlMs); // the child keeps renewing: B waits
      expect(waitedOn.length).toBeGreaterThan(1);
      expect(new Set(waitedOn)).toEqual(new Set(['child']));
      const killedAt = Date.now();
      child.kill('SIGKILL');
      const lb = await taking;
      const took = Date.now() - killedAt;
      expect(lb.token).toBeGreaterThan(childToken);
      expect(took).toBeGreaterThan(ttlMs / 2); // it waited for the lease to expire…
      expect(took).toBeLessThan(ttlMs + ttlMs / 4 + 1000); // …and no longer than the TTL, one poll and a margin for a loaded machine
      console.log(`redis lease: a SIGKILLed holder was replaced after ${took} ms (ttl ${ttlMs} ms)`);
      await lb.release();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
