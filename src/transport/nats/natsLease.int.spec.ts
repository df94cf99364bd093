import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceForTests } from '../testing/services.js';
import type { MergerLease, PublishedMerge } from '../transport.js';
import { LEASE_KEY } from './natsNames.js';
import { natsTestStores } from './testing/natsTestStore.js';

const ok = await serviceForTests('nats');
const stores = natsTestStores();
afterAll(() => stores.cleanup());

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '../../../dist');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const merge = (index: number, bundle: Uint8Array = Buffer.from(`bundle ${index}`)): PublishedMerge => ({ index, frame: index * 10, recordSha256: `${index}`.padStart(64, '0'), bundle });
async function readAll(t: { failover: { readMerges(from: number): AsyncIterable<PublishedMerge> } }, from: number): Promise<PublishedMerge[]> {
  const out: PublishedMerge[] = [];
  for await (const m of t.failover.readMerges(from)) out.push(m);
  return out;
}

describe.skipIf(!ok)('nats merger lease and published merges', () => {
  it('two contenders: exactly one holds at a time; the other takes over on release with a greater token', async () => {
    const a = await stores.open();
    const b = await stores.open({ store: a.names.store });
    const ttlMs = 1200;
    const leaseA = await a.failover.acquireLease!({ holder: 'A', ttlMs });
    const waits: string[] = [];
    let leaseB: MergerLease | undefined;
    const gotB = b.failover.acquireLease!({ holder: 'B', ttlMs, onWait: (h) => waits.push(h) }).then((l) => (leaseB = l));
    // Sample for three TTLs: A renews, B waits.
    const kv = await new Kvm(a.connection).open(a.names.leaseBucket);
    for (let i = 0; i < 30; i++) {
      await sleep(120);
      expect(leaseA.lost.aborted).toBe(false);
      expect(leaseB).toBeUndefined();
      const e = await kv.get(LEASE_KEY);
      expect(JSON.parse(e!.string())).toEqual({ holder: 'A', token: leaseA.token });
    }
    expect(waits.length).toBeGreaterThan(3);
    expect(new Set(waits)).toEqual(new Set(['A']));
    await leaseA.release();
    await gotB;
    expect(leaseB!.token).toBeGreaterThan(leaseA.token);
    expect(leaseB!.holder).toBe('B');
    // A publishing with its old token is refused, and nothing is written.
    await expect(a.failover.publishMerges!([merge(1)], leaseA)).rejects.toMatchObject({ code: 'lease-lost' });
    expect(await a.failover.publishedHead!()).toBeUndefined();
    await b.failover.publishMerges!([merge(1)], leaseB!);
    expect(await a.failover.publishedHead!()).toEqual({ index: 1, frame: 10, recordSha256: merge(1).recordSha256 });
    await leaseB!.release();
  });

  it('renewal finding the key written by someone else aborts lost; an expired holder is replaced', async () => {
    const a = await stores.open();
    const ttlMs = 900;
    const lease = await a.failover.acquireLease!({ holder: 'A', ttlMs });
    const kv = await new Kvm(a.connection).open(a.names.leaseBucket);
    await kv.put(LEASE_KEY, JSON.stringify({ holder: 'intruder', token: 1 }));
    const t0 = Date.now();
    while (!lease.lost.aborted && Date.now() - t0 < 3000) await sleep(20);
    expect(lease.lost.aborted).toBe(true);
    expect(lease.lost.reason).toMatchObject({ code: 'lease-lost' });
    expect(Date.now() - t0).toBeLessThan(ttlMs);
    // The intruder never renews: its value expires with the bucket's TTL, and a waiting merger takes over.
    const b = await stores.open({ store: a.names.store });
    const next = await b.failover.acquireLease!({ holder: 'B', ttlMs: ttlMs + 100 });
    expect(next.token).toBeGreaterThan(lease.token);
    // The new holder asked for another TTL: the bucket now expires values after it.
    const info = await (await jetstreamManager(a.connection)).streams.info(a.names.leaseStream);
    expect(info.config.max_age).toBe((ttlMs + 100) * 1e6);
    await next.release();
    await lease.release(); // a no-op once lost
  });

  it('a holder whose lease passed on after its lease check cannot publish: the new holder\'s takeover marker fences it in the merges stream itself', async () => {
    const a = await stores.open();
    const b = await stores.open({ store: a.names.store });
    const kv = await new Kvm(a.connection).open(a.names.leaseBucket);
    const leaseA = await a.failover.acquireLease!({ holder: 'A', ttlMs: 5000 });
    await a.failover.publishMerges!([merge(1), merge(2)], leaseA);
    // A's lease expires (deleted here) and B takes over; B marks its takeover in the merges stream.
    await kv.delete(LEASE_KEY);
    const leaseB = await b.failover.acquireLease!({ holder: 'B', ttlMs: 5000 });
    expect(leaseB.token).toBeGreaterThan(leaseA.token);
    // A checks the lease bucket at the worst moment: as if it had read it just before B's takeover.
    await kv.put(LEASE_KEY, JSON.stringify({ holder: 'A', token: leaseA.token }));
    await expect(a.failover.publishMerges!([merge(3, Buffer.from('from A'))], leaseA)).rejects.toMatchObject({ code: 'lease-lost', message: expect.stringMatching(/last written under fencing token \d+, newer than A's/) });
    expect(await a.failover.publishedHead!()).toEqual({ index: 2, frame: 20, recordSha256: merge(2).recordSha256 });
    // B goes on from merge 2 (the marker is no merge: readers never see it).
    await kv.put(LEASE_KEY, JSON.stringify({ holder: 'B', token: leaseB.token }));
    // (The puts above changed the key under B's renewals, so B's own lease object may have seen
    // that as a loss: publish with its token through a fresh one.)
    const asB: MergerLease = { token: leaseB.token, holder: 'B', lost: new AbortController().signal, release: async () => undefined };
    await b.failover.publishMerges!([merge(3, Buffer.from('from B'))], asB);
    expect((await readAll(a, 1)).map((m) => [m.index, Buffer.from(m.bundle).toString()])).toEqual([[1, 'bundle 1'], [2, 'bundle 2'], [3, 'from B']]);
    expect((await readAll(a, 3)).map((m) => m.index)).toEqual([3]);
    await leaseB.release();
  });

  it('publishes in order with the fencing check; diverged on gaps; reads back byte for byte', async () => {
    const t = await stores.open();
    const lease = await t.failover.acquireLease!({ holder: 'P', ttlMs: 5000 });
    await t.failover.publishMerges!([], lease); // nothing: a no-op
    const first = [merge(1), merge(2, new Uint8Array(0)), merge(3, Buffer.from([0, 0xff, 0x7b]))];
    await t.failover.publishMerges!(first, lease);
    expect(await t.failover.publishedHead!()).toEqual({ index: 3, frame: 30, recordSha256: merge(3).recordSha256 });
    await expect(t.failover.publishMerges!([merge(5)], lease)).rejects.toMatchObject({ code: 'diverged' });
    await expect(t.failover.publishMerges!([merge(3)], lease)).rejects.toMatchObject({ code: 'diverged' });
    await expect(t.failover.publishMerges!([merge(4), merge(6)], lease)).rejects.toMatchObject({ code: 'diverged' });
    const stale = { ...lease, token: lease.token - 1, lost: new AbortController().signal, release: async () => undefined };
    await expect(t.failover.publishMerges!([merge(4)], stale)).rejects.toMatchObject({ code: 'lease-lost' });
    expect((await t.failover.publishedHead!())?.index).toBe(3);
    const back = await readAll(t, 1);
    expect(back.map((m) => m.index)).toEqual([1, 2, 3]);
    back.forEach((m, i) => {
      expect(Buffer.from(m.bundle).equals(Buffer.from(first[i].bundle))).toBe(true);
      expect(m.recordSha256).toBe(first[i].recordSha256);
      expect(m.frame).toBe(first[i].frame);
    });
    expect((await readAll(t, 3)).map((m) => m.index)).toEqual([3]);
    expect(await readAll(t, 4)).toEqual([]);
    await lease.release();
  });

  it('a bundle bigger than max_payload is published in parts and read back whole, at any starting index', async () => {
    const t = await stores.open();
    const lease = await t.failover.acquireLease!({ holder: 'P', ttlMs: 5000 });
    const big = randomBytes(Math.floor(t.maxPayload() * 2.5));
    const list = [merge(1), merge(2, big), merge(3), merge(4, randomBytes(t.maxPayload())), merge(5)];
    await t.failover.publishMerges!(list.slice(0, 2), lease);
    await t.failover.publishMerges!(list.slice(2), lease);
    expect((await t.failover.publishedHead!())?.index).toBe(5);
    const jsm = await jetstreamManager(t.connection);
    const lastPart = await jsm.streams.getMessage(t.names.mergesStream, { last_by_subj: t.names.partsSubject });
    expect(lastPart?.header.get('Framelog-Index')).toBe('4'); // the big ones went in parts
    expect(lastPart?.header.get('Framelog-Parts')).toBe('2');
    for (const from of [1, 2, 3, 4, 5]) {
      const back = await readAll(t, from);
      expect(back.map((m) => m.index)).toEqual(list.slice(from - 1).map((m) => m.index));
      back.forEach((m) => expect(Buffer.from(m.bundle).equals(Buffer.from(list[m.index - 1].bundle))).toBe(true));
    }
    // Stop reading after the first: the consumer is closed, nothing hangs.
    for await (const m of t.failover.readMerges!(2)) {
      expect(m.index).toBe(2);
      break;
    }
    await lease.release();
  });

  it('a holder in a child process killed with SIGKILL is replaced by a waiting merger within the TTL (plus one poll)', async () => {
    expect(existsSync(join(dist, 'transport/nats/natsTransport.js')), 'build dist first: npx tsc -p tsconfig.build.json').toBe(true);
    const waiter = await stores.open();
    const store = waiter.names.store;
    const ttlMs = 2000;
    const child = spawn(process.execPath, [join(here, 'testing/natsLeaseHolder.mjs'), dist, stores.url, store, String(ttlMs), 'child'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((res, rej) => {
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b;
          if (out.includes('\n')) res(out.split('\n')[0]);
        });
        child.on('exit', (code) => rej(new Error(`lease holder exited ${code} before holding the lease`)));
        setTimeout(() => rej(new Error('lease holder did not report within 20 s')), 20_000);
      });
      const held = JSON.parse(line) as { token: number };
      let acquiredAt = 0;
      const waits: string[] = [];
      const pending = waiter.failover.acquireLease!({ holder: 'waiter', ttlMs, onWait: (h) => waits.push(h) }).then((l) => {
        acquiredAt = Date.now();
        return l;
      });
      await sleep(ttlMs * 1.5); // the child renews: the waiter keeps waiting
      expect(acquiredAt).toBe(0);
      expect(waits).toContain('child');
      const killedAt = Date.now();
      child.kill('SIGKILL');
      const lease = await pending;
      const took = acquiredAt - killedAt;
      console.log(`nats lease: taken over ${took} ms after SIGKILL (ttl ${ttlMs} ms)`);
      expect(took).toBeLessThanOrEqual(ttlMs + ttlMs / 4 + 1000);
      expect(lease.token).toBeGreaterThan(held.token);
      await lease.release();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
