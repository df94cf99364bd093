import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLog } from '../../store/history/journalQueries.js';
import { initStore, openStoreContext } from '../../store/storeContext.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import { createFsTransport } from '../fs/fsTransport.js';
import { runTransportMerger } from '../runTransportMerger.js';
import { runEquivalence } from '../testing/equivalence.js';
import { serviceForTests, SERVICE_URLS } from '../testing/services.js';
import { fsUnderTest } from '../testing/transportsUnderTest.js';
import { generateWorkload } from '../testing/workload.js';
import { postgresUnderTest } from './postgresUnderTest.js';
import { dropPostgresTransportStore, openPostgresTransport } from './postgresTransport.js';

const ok = await serviceForTests('postgres');
const url = SERVICE_URLS.postgres;
const root = mkdtempSync(join(tmpdir(), 'framelog-pg-'));
const stores: string[] = [];
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  for (const store of stores) await dropPostgresTransportStore({ url, store });
});
const NOW = Date.parse('2026-06-01T00:00:00Z');
const delta = (frame: number, writer: string): Buffer => Buffer.from(JSON.stringify({ frame, writer, utc: `2026-05-01T00:00:0${frame % 10}.000Z`, counters: { n: 1 }, set: { board: { leader: { by: writer } } } }));

describe.skipIf(!ok)('postgres transport through the merger', () => {
  it('bad input arriving through PostgreSQL is quarantined with its reason exactly as on the filesystem', async () => {
    const bad = [
      '{"frame":1,"writer":"w1","utc":"2026-05-01T00:00:00Z","counters":{"n":NaN}}',
      '{"frame":1,"utc":"2026-05-01T00:00:00Z"}',
      '{"frame":1,"writer":"w1","utc":"2026-05-01T00:00:00Z","status":"fallback","set":{}}',
      '{"frame":1,"writer":"w1","utc":"yesterday"}',
      'not json at all',
      '{"frame":1,"writer":"w1","utc":"2026-05-01T00:00:00Z","set":{"a":{"b":"x\\u0000y"}}}',
    ].map((s) => Buffer.from(s));
    bad.push(Buffer.from([0x7b, 0xff, 0x00, 0x7d]), Buffer.alloc(0));
    const good = [delta(1, 'w1'), delta(1, 'w2')];
    // fs
    const fsDir = join(root, 'bad-fs');
    initStore(fsDir);
    await createFsTransport(fsDir).put([...good, ...bad]);
    await runTransportMerger(openStoreContext(fsDir), createFsTransport(fsDir), { now: () => NOW });
    // postgres: the writer and the merger each their own transport
    const store = `m_${randomBytes(5).toString('hex')}`;
    stores.push(store);
    const pgDir = join(root, 'bad-pg');
    initStore(pgDir);
    const w = await openPostgresTransport({ url, store });
    await w.put([...good, ...bad]);
    await w.close();
    const m = await openPostgresTransport({ url, store });
    const records = await runTransportMerger(openStoreContext(pgDir), m, { now: () => NOW });
    expect(records.map((r) => r.frame)).toEqual([1]);
    expect(await m.pull()).toEqual([]); // all acknowledged…
    const left = await openPostgresTransport({ url, store });
    expect(await left.pull()).toEqual([]); // …and gone from the table
    await left.close();
    await m.close();

    const whys = (dir: string) => readdirSync(join(dir, 'quarantine')).filter((f) => f.endsWith('.why.json')).map((f) => {
      const { file, why, merge, utc } = JSON.parse(readFileSync(join(dir, 'quarantine', f), 'utf8'));
      return { file, why, merge, utc, bytes: readFileSync(join(dir, 'quarantine', file)).toString('hex') };
    }).sort((a, b) => (a.file < b.file ? -1 : 1));
    expect(whys(pgDir)).toHaveLength(bad.length);
    expect(whys(pgDir)).toEqual(whys(fsDir));
    const rec = (dir: string) => readLog(openStoreContext(dir)).map((r) => ({ ...r, utc: '', prev: '' }));
    expect(rec(pgDir)).toEqual(rec(fsDir));
    expect(verifyStore(openStoreContext(pgDir)).ok).toBe(true);
  });

  it('watch mode: a merger woken by LISTEN merges each frame soon after its put', async () => {
    const store = `m_${randomBytes(5).toString('hex')}`;
    stores.push(store);
    const dir = join(root, 'watch');
    initStore(dir, { writers: ['w1'] });
    const w = await openPostgresTransport({ url, store });
    const m = await openPostgresTransport({ url, store });
    const abort = new AbortController();
    const merged: Array<{ frame: number; ms: number }> = [];
    const putAt = new Map<number, number>();
    let wake: (() => void) | undefined;
    // pollMs is long, so only the notification can make the merges this fast.
    const loop = runTransportMerger(openStoreContext(dir), m, {
      watch: true, signal: abort.signal, pollMs: 5000,
      onMerge: (r) => { merged.push({ frame: r.frame, ms: performance.now() - putAt.get(r.frame)! }); wake?.(); },
    });
    await new Promise((r) => setTimeout(r, 300)); // the LISTEN connection is up
    for (let f = 1; f <= 5; f++) {
      const done = new Promise<void>((r) => (wake = r));
      putAt.set(f, performance.now());
      await w.put([delta(f, 'w1')]);
      await done;
    }
    abort.abort();
    await loop;
    await w.close();
    await m.close();
    expect(merged.map((x) => x.frame)).toEqual([1, 2, 3, 4, 5]);
    expect(Math.max(...merged.map((x) => x.ms))).toBeLessThan(2500);
  });

  it('equivalence: fs and postgres give identical stores on a shared workload', async () => {
    const workload = generateWorkload({ writers: 4, frames: 12, deltas: 400, rounds: 6, seed: 5 });
    const report = await runEquivalence({ transports: [fsUnderTest, postgresUnderTest], workload, root: join(root, 'eq') });
    expect(report.differences).toEqual([]);
    expect(report.runs[1].merges).toBeGreaterThan(0);
    expect(report.runs[1].digest.verify).toBe(true);
  });
});
