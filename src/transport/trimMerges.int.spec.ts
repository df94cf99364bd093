import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { landDeltas } from '../store/inbox/landDeltas.js';
import { openMergerOn } from '../store/openStore.js';
import { copyStore } from '../store/replication/copyStore.js';
import { initStore, openStoreContext, type StoreContext } from '../store/storeContext.js';
import { verifyStore } from '../store/history/verifyStore.js';
import { dropTransportStore } from './dropTransportStore.js';
import { openTransport } from './openTransport.js';
import { runTransportMerger } from './runTransportMerger.js';
import { enginesForTests } from './testing/services.js';
import type { Transport } from './transport.js';

const run = promisify(execFile);
const cli = resolve('dist/cli/main.js');
const root = mkdtempSync(join(tmpdir(), 'framelog-trim-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const engines = await enginesForTests();

const delta = (frame: number, writer: string) => Buffer.from(JSON.stringify({ frame, writer, utc: new Date(Date.UTC(2026, 4, 1, 0, 0, frame)).toISOString(), counters: { n: 1 }, set: { board: { top: { by: writer } } } }));
const lines = (ctx: StoreContext): string[] => (existsSync(ctx.layout.merges) ? readFileSync(ctx.layout.merges, 'utf8').split('\n').filter(Boolean) : []);

describe.each(engines)('published merges trimmed in $transport', ({ transport, url, available }) => {
  it.skipIf(!available)('the merger keeps the last N; a host one merge behind the kept ones catches up; a fresh host and one that diverged before them stop with `trimmed`, their stores untouched; a host seeded by framelog copy joins; framelog transport trim', async () => {
    const store = `trim_${transport}_${process.pid}_${Date.now().toString(36)}`;
    const config = { transport, url, store };
    const host = (name: string) => initStore(join(root, `${transport}-${name}`), { writers: ['w1', 'w2'] });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(host);
    const writer = await openTransport(config, '', { role: 'writer' });
    /** One one-shot merger run on `ctx` (its own connection, as a separate host would). */
    const merge = async (ctx: StoreContext, keepPublished?: number): Promise<number[]> => {
      const t = await openTransport(config, ctx.layout.root, { role: 'merger' });
      try {
        return (await runTransportMerger(ctx, t, { keepPublished, leaseTtlMs: 3000 })).map((r) => r.frame);
      } finally {
        await t.close();
      }
    };
    const publishedIndexes = async (t: Transport): Promise<number[]> => {
      const out: number[] = [];
      for await (const m of t.failover!.readMerges(1)) out.push(m.index);
      return out;
    };
    const frame = async (f: number, keep?: number): Promise<void> => {
      await writer.put([delta(f, 'w1'), delta(f, 'w2')]);
      expect(await merge(a, keep)).toEqual([f]);
    };
    try {
      for (let f = 1; f <= 5; f++) await frame(f);
      expect(await merge(c)).toEqual([]); // C and D catch up with merges 1–5
      expect(await merge(d)).toEqual([]);
      expect(lines(d)).toEqual(lines(a));
      // D merges frames 6–8 on its own (as a merger that lost its lease would): it diverged at merge
      // 6, and holds as many merges as the oldest one kept (8), so it takes the divergence path.
      landDeltas(d, [delta(6, 'w1'), delta(7, 'w1'), delta(8, 'w1')]);
      const own = openMergerOn(d);
      expect(own.merge({}).map((r) => r.frame)).toEqual([6, 7, 8]);
      own.close();
      const dBefore = readFileSync(d.layout.merges);
      for (let f = 6; f <= 7; f++) await frame(f);
      expect(await merge(c)).toEqual([]); // C: merges 6–7
      for (let f = 8; f <= 10; f++) await frame(f, 3);
      expect(await publishedIndexes(writer)).toEqual([8, 9, 10]);
      expect((await writer.failover!.publishedHead())?.index).toBe(10);

      // C holds merge 7, the one before the oldest kept: it catches up.
      expect(await merge(c)).toEqual([]);
      expect(lines(c)).toEqual(lines(a));
      expect(verifyStore(c).ok).toBe(true);
      // B holds nothing: it cannot catch up from the transport, and says how to seed it.
      const fresh = await merge(b).then(() => undefined, (e: { code?: string; message: string }) => e);
      expect(fresh).toMatchObject({ code: 'trimmed', message: expect.stringMatching(/holds 0 merges, but the transport keeps published merges only from merge 8 on.*seed it/) });
      expect(lines(b)).toEqual([]);
      // Seeded with a copy of A's store, the new host joins: it holds A's history byte for byte and
      // catches up with what A merges next.
      expect(copyStore(a, join(root, `${transport}-b2`))).toMatchObject({ merges: 10, frame: 10 });
      const b2 = openStoreContext(join(root, `${transport}-b2`));
      await frame(11, 3);
      expect(await merge(b2)).toEqual([]);
      expect(lines(b2)).toEqual(lines(a));
      expect(verifyStore(b2).ok).toBe(true);
      // D diverged before the kept merges: nothing can be taken back safely, so nothing is.
      const diverged = await merge(d).then(() => undefined, (e: { code?: string }) => e);
      expect(diverged).toMatchObject({ code: 'trimmed' });
      expect(readFileSync(d.layout.merges)).toEqual(dBefore);

      // The command line: keep the last 2.
      const { stdout } = await run(process.execPath, [cli, 'transport', 'trim', '--transport', transport, '--url', url, '--store', store, '--keep', '2', '--json']);
      expect(JSON.parse(stdout)).toEqual({ transport, store, head: 11, removed: 1, keptFrom: 10 });
      expect(await publishedIndexes(writer)).toEqual([10, 11]);
      const bad = await run(process.execPath, [cli, 'transport', 'trim', '--transport', transport, '--url', url, '--store', store, '--keep', '0']).then(() => undefined, (e: { code?: number; stderr: string }) => e);
      expect(bad?.code).not.toBe(0);
      expect(bad?.stderr.trim()).toBe('framelog: --keep: expected a whole number ≥ 1, got "0"');
    } finally {
      await writer.close();
      await dropTransportStore(config);
    }
  }, 90_000);
});
