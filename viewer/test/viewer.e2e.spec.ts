import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMergerOn } from '../../src/store/openStore.js';
import { openStoreContext } from '../../src/store/storeContext.js';
import { createServer, type FramelogServer } from '../../src/server/createServer.js';
import { ensureToken } from '../../src/server/token.js';
import { chromiumAvailable, collectRows, launchBrowser, screenshot, type DomRow } from './browser.js';

const MAIN = path.resolve('dist/cli/main.js');
const run = promisify(execFile);
const cli = (dir: string, ...args: string[]): string => execFileSync(process.execPath, [MAIN, ...args, '--dir', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const ndjson = <T>(text: string): T[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
const json = (v: unknown): string => (v === undefined ? '—' : JSON.stringify(v));

const enabled = chromiumAvailable();
const stores: Record<'evolution' | 'ecosystem' | 'fleet', { dir: string; server: FramelogServer; url: string }> = {} as never;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;

/** Opens `url` and waits for the app to have mounted its view. */
async function open(url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('[data-testid^="view-"]');
}

/** Moves the timeline's scrubber to `frame` as a drag does (value, then an input event). */
async function scrubTo(frame: number): Promise<void> {
  await page.locator('[data-testid=scrubber]').fill(String(frame));
}

/** The state the page shows, rebuilt from the tree's leaf rows (path and value attributes). */
function stateOfRows(rows: DomRow[]): unknown {
  const root: Record<string, unknown> = {};
  for (const r of rows) {
    if (r.data.kind !== 'leaf') continue;
    const p = JSON.parse(r.data.path) as Array<string | number>;
    let at: Record<string | number, unknown> = root;
    p.forEach((k, i) => {
      if (i === p.length - 1) at[k] = JSON.parse(r.data.value);
      else at = (at[k] ??= typeof p[i + 1] === 'number' ? [] : {}) as Record<string | number, unknown>;
    });
  }
  return root;
}

describe.skipIf(!enabled)('viewer in Chromium, on demo stores', () => {
  beforeAll(async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-viewer-'));
    const demo = (name: string, ...args: string[]) => run(process.execPath, [MAIN, 'demo', name, '--dir', path.join(base, name), '--json', ...args], { maxBuffer: 16 * 1024 * 1024 });
    await Promise.all([
      demo('evolution', '--frames', '40', '--size', '80'),
      demo('ecosystem', '--frames', '30', '--size', '6'),
      demo('fleet', '--frames', '20', '--workers', '4', '--size', '60'),
    ]);
    for (const name of ['evolution', 'ecosystem', 'fleet'] as const) {
      const dir = path.join(base, name);
      ensureToken(dir);
      const server = createServer({ dir, port: 0 });
      stores[name] = { dir, server, url: await server.listen() };
    }
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => {
      throw e;
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    for (const s of Object.values(stores)) await s.server.close();
  });

  it('the state tree at each scrubbed frame equals framelog state --at N (tree and raw JSON)', async () => {
    const { url, dir } = stores.evolution;
    await open(`${url}/?view=state&expand=all`);
    for (const frame of [0, 7, 23, 40, 12]) {
      await scrubTo(frame);
      await page.waitForSelector(`[data-testid=state-frame][data-frame="${frame}"]`);
      const expected = cli(dir, 'state', '--at', String(frame)).trimEnd();
      expect(stateOfRows(await collectRows(page, 'state-tree')), `frame ${frame}`).toEqual(JSON.parse(expected));
      if (frame === 23) await screenshot(page, 'state');
    }
    await page.click('[data-testid=raw-toggle]');
    expect(await page.textContent('[data-testid=state-raw]')).toBe(cli(dir, 'state', '--at', '12').trimEnd());
    await screenshot(page, 'state-raw');
  });

  it('a deep link opens a view at a frame; the diff view equals framelog diff', async () => {
    const { url, dir } = stores.evolution;
    for (const [a, b] of [[3, 4], [0, 40], [10, 25]]) {
      await open(`${url}/?view=diff&from=${a}&to=${b}&frame=${b}`);
      await page.waitForSelector(`[data-testid=diff-summary][data-to="${b}"]`);
      expect(await page.inputValue('[data-testid=diff-from]')).toBe(String(a));
      const d = JSON.parse(cli(dir, 'diff', String(a), String(b), '--json')) as {
        fields: Array<{ type: string; id: string; field: string; old?: unknown; new: unknown; writer: string; frame: number; seq: number }>;
        items: Array<{ collection: string; key: string; item: unknown; replaced?: unknown; writer: string; frame: number; seq: number }>;
        counters: Array<{ name: string; old: number; new: number; delta: number }>;
      };
      const by = (c: { writer: string; frame: number; seq: number }) => `${c.writer} @${c.frame}${c.seq ? `.${c.seq}` : ''}`;
      const expected = [
        ...d.fields.map((c) => ['field', c.type, c.id, c.field, json(c.old), '→', json(c.new), by(c)]),
        ...d.items.map((c) => ['item', c.collection, c.key, '', c.replaced === undefined ? '+' : json(c.replaced), '→', json(c.item), by(c)]),
        ...d.counters.map((c) => ['counter', c.name, '', '', String(c.old), '→', String(c.new), `${c.delta >= 0 ? '+' : ''}${c.delta}`]),
      ];
      const rows = (await collectRows(page, 'diff-rows')).filter((r) => r.data.kind !== 'group').map((r) => [r.data.kind, ...r.cells]);
      expect(rows, `diff ${a} ${b}`).toEqual(expected);
      expect(expected.length).toBeGreaterThan(0);
      if (a === 10) await screenshot(page, 'diff');
    }
    await open(`${url}/?view=state&frame=17`);
    await page.waitForSelector('[data-testid=state-frame][data-frame="17"]');
    expect(await page.inputValue('[data-testid=frame-input]')).toBe('17');
  });

  it('the conflicts table equals framelog conflicts, with and without filters', async () => {
    const { url, dir } = stores.fleet;
    type Side = { value: unknown; writer: string; frame: number };
    type C = { merge: number; kind: string; type?: string; id?: string; field?: string; collection?: string; key?: string; frame?: number; writer?: string; seq?: number; base?: unknown; winner?: Side; losers?: Side[]; kept?: string; other?: string };
    const side = (s: Side) => `${json(s.value)} by ${s.writer} @${s.frame}`;
    const rowOf = (c: C): string[] => [
      String(c.merge), c.kind,
      c.kind === 'field' ? `${c.type}/${c.id}.${c.field}` : c.kind === 'item' ? `${c.collection}[${c.key}]` : `delta ${c.frame}/${c.writer}/${c.seq}`,
      c.kind === 'field' ? json(c.base) : '',
      c.kind === 'delta' ? `kept ${c.kept!.slice(0, 12)}` : side(c.winner!),
      c.kind === 'delta' ? `other ${c.other!.slice(0, 12)}` : c.losers!.map(side).join('; '),
    ];
    await open(`${url}/?view=conflicts`);
    await page.waitForSelector('[data-testid=conflict-rows][data-ready]');
    const all = ndjson<C>(cli(dir, 'conflicts'));
    expect(all.length).toBeGreaterThan(0);
    expect((await collectRows(page, 'conflict-rows')).map((r) => r.cells)).toEqual(all.map(rowOf));
    await screenshot(page, 'conflicts');
    const writer = all[0].losers![0].writer;
    await page.fill('[data-testid=filter-writer]', writer);
    await page.fill('[data-testid=filter-frame]', '3..15');
    await page.fill('[data-testid=filter-field]', 'item');
    await page.click('[data-testid=filter-apply]');
    await page.waitForFunction(() => /^(no conflicts|\d+ conflict)/.test(document.querySelector('[data-testid=conflicts-total]')?.textContent ?? ''));
    const filtered = ndjson<C>(cli(dir, 'conflicts', '--writer', writer, '--frame', '3..15', '--field', 'item'));
    expect((await collectRows(page, 'conflict-rows')).map((r) => r.cells)).toEqual(filtered.map(rowOf));
    expect(new URL(page.url()).searchParams.get('writer')).toBe(writer);
  });

  it('the migration log is one click and equals framelog events --type migration', async () => {
    const { url, dir } = stores.ecosystem;
    await open(`${url}/?view=events`);
    await page.waitForSelector('[data-testid=event-rows][data-ready]');
    await page.click('[data-testid=migration-log]');
    await page.waitForFunction(() => /of type migration/.test(document.querySelector('[data-testid=events-total]')?.textContent ?? ''));
    type E = { merge: number; frame: number; writer: string; seq: number; event: { type: string } };
    const expected = ndjson<E>(cli(dir, 'events', '--type', 'migration')).map((e) => [String(e.merge), String(e.frame), e.seq ? `${e.writer}.${e.seq}` : e.writer, e.event.type, JSON.stringify(e.event)]);
    expect(expected.length).toBeGreaterThan(0);
    expect((await collectRows(page, 'event-rows')).map((r) => r.cells)).toEqual(expected);
    await screenshot(page, 'events-migration');
  });

  it('the per-dispatch timeline matches the register, and scrubbing shows each dispatch\'s phase', async () => {
    const { url, dir } = stores.fleet;
    // Lives read straight from the register: start/restart opens one, crash/stop closes it.
    type L = { type: string; agent: string; event: string; frame: number; pid?: number };
    const lives: Array<{ agent: string; start: string; from: number; end: string; to: string; pid: string }> = [];
    const open_ = new Map<string, (typeof lives)[number]>();
    for (const r of ndjson<L>(fs.readFileSync(path.join(dir, 'streams', 'register.ndjson'), 'utf8'))) {
      if (r.event === 'start' || r.event === 'restart') {
        const l = { agent: r.agent, start: r.event, from: r.frame, end: '', to: '', pid: String(r.pid ?? '') };
        lives.push(l);
        open_.set(r.agent, l);
      } else {
        const l = open_.get(r.agent)!;
        l.end = r.event;
        l.to = String(r.frame);
      }
    }
    await open(`${url}/?view=dispatches&frame=1`);
    await page.waitForSelector('[data-testid=dispatch]');
    const shown = await page.$$eval('[data-testid=dispatch]', (els) => els.map((e) => {
      const d = (e as HTMLElement).dataset;
      return { agent: d.agent!, start: d.start!, from: Number(d.from), end: d.end!, to: d.to!, pid: d.pid! };
    }));
    expect(shown).toEqual(lives);
    const crashed = lives.find((l) => l.end === 'crash');
    expect(crashed).toBeDefined();
    await scrubTo(Number(crashed!.to));
    const id = `${crashed!.agent}@${crashed!.from}`;
    await page.waitForSelector(`[data-testid=dispatch-frame][data-frame="${crashed!.to}"]`);
    expect(await page.textContent(`[data-testid=dispatch-now] tr[data-id="${id}"] .c-phase`)).toBe('crashed');
    expect(await page.getAttribute(`[data-testid=dispatch][data-id="${id}"] .seg[data-frame="${crashed!.to}"]`, 'data-phase')).toBe('crashed');
    await screenshot(page, 'dispatches');
  });

  it('the writer swimlanes colour each merge as the merge records say; a click shows the delta', async () => {
    const { url, dir } = stores.fleet;
    type R = { frame: number; applied: Array<{ writer: string; frame: number }>; late: Array<{ writer: string; frame: number }>; fallback: string[]; missing: string[] };
    const log = ndjson<R>(cli(dir, 'log'));
    const last = log.at(-1)!.frame;
    await open(`${url}/?view=writers&frame=${last}`);
    await page.waitForSelector(`[data-testid=lanes][data-frame="${last}"]`);
    const cells = await page.$$eval('.lane-cell', (els) => els.map((e) => ({ writer: (e as HTMLElement).dataset.writer!, frame: Number((e as HTMLElement).dataset.frame), status: (e as HTMLElement).dataset.status! })));
    let checked = 0;
    for (const r of log) {
      for (const w of ['agent-0', 'agent-1', 'agent-2', 'agent-3']) {
        const want = r.late.some((d) => d.writer === w) ? 'late' : r.fallback.includes(w) ? 'fallback' : r.missing.includes(w) ? 'missing' : r.applied.some((d) => d.writer === w) ? 'ok' : 'none';
        const got = cells.find((c) => c.writer === w && c.frame === r.frame);
        expect(got?.status, `${w} @${r.frame}`).toBe(want);
        checked++;
      }
    }
    expect(checked).toBe(log.length * 4);
    const target = log.find((r) => r.fallback.length > 0) ?? log[0];
    const writer = target.fallback[0] ?? target.applied[0].writer;
    await page.click(`.lane-cell[data-writer="${writer}"][data-frame="${target.frame}"]`);
    await page.waitForSelector('[data-testid=delta-json]');
    const shown = JSON.parse((await page.textContent('[data-testid=delta-json]'))!) as { writer: string };
    expect(shown.writer).toBe(writer);
    await screenshot(page, 'writers');
  });

  it('the stream browser filters by type and follows a stream live', async () => {
    const { url, dir, server } = stores.fleet;
    const receipts = ndjson<{ type: string; status: string }>(fs.readFileSync(path.join(dir, 'streams', 'receipts.ndjson'), 'utf8'));
    await open(`${url}/?view=streams&stream=receipts&type=receipt&follow=1`);
    await page.waitForFunction((n) => (document.querySelector('[data-testid=stream-total]')?.textContent ?? '').startsWith(`${n} record`), receipts.length);
    const rows = await collectRows(page, 'stream-rows');
    expect(rows.length).toBe(receipts.length);
    const res = await server.app.inject({ method: 'POST', url: '/api/streams/receipts', headers: { authorization: `Bearer ${ensureToken(dir)}`, 'content-type': 'application/json', host: new URL(url).host }, payload: JSON.stringify({ type: 'receipt', item: 'item-live', agent: 'agent-9', frame: 99, status: 'ok' }) });
    expect(res.statusCode).toBe(201);
    await page.waitForFunction((n) => (document.querySelector('[data-testid=stream-total]')?.textContent ?? '').startsWith(`${n} record`), receipts.length + 1);
    await page.evaluate(() => {
      const box = document.querySelector('[data-testid=stream-rows]') as HTMLElement;
      box.scrollTop = box.scrollHeight;
    });
    await page.waitForSelector('text=item-live');
    await screenshot(page, 'streams');
  });

  it('demo panels: the cladogram, per-region population plots, per-worker outcomes', async () => {
    await open(`${stores.evolution.url}/?view=demo`);
    await page.waitForFunction(() => (document.querySelector('[data-testid=cladogram]') as HTMLImageElement | null)?.naturalWidth ?? 0 > 0);
    await screenshot(page, 'demo-evolution');
    await open(`${stores.ecosystem.url}/?view=demo&frame=15`);
    await page.waitForSelector('[data-testid=panel-ecosystem] figure.plot');
    const pops = JSON.parse(fs.readFileSync(path.join(stores.ecosystem.dir, 'views', 'ecosystem', 'populations.json'), 'utf8')) as { regions: string[] };
    expect(await page.$$eval('figure.plot', (f) => f.map((x) => (x as HTMLElement).dataset.region))).toEqual(pops.regions);
    await screenshot(page, 'demo-ecosystem');
    await open(`${stores.fleet.url}/?view=demo`);
    await page.waitForSelector('[data-testid=fleet-outcomes] tbody tr');
    const receipts = ndjson<{ agent: string; status: string }>(fs.readFileSync(path.join(stores.fleet.dir, 'streams', 'receipts.ndjson'), 'utf8'));
    const ok = await page.$$eval('[data-testid=fleet-outcomes] tbody tr', (trs) => trs.map((tr) => [(tr as HTMLElement).dataset.agent, tr.children[1].textContent]));
    for (const [agent, n] of ok) expect(Number(n), agent!).toBe(receipts.filter((r) => r.agent === agent && r.status === 'ok').length);
    await screenshot(page, 'demo-fleet');
  });

  it('live mode follows new merges through SSE', async () => {
    const { url, dir } = stores.ecosystem;
    await open(`${url}/?view=state`);
    const last = Number(await page.getAttribute('[data-testid=scrubber]', 'max'));
    await page.check('[data-testid=live]');
    await page.waitForSelector('[data-testid=live-dot].on');
    const next = last + 1;
    const delta = { frame: next, writer: 'shard-0', utc: new Date(Date.UTC(2026, 0, 1) + next * 1000).toISOString(), counters: { live_test: 1 } };
    fs.writeFileSync(path.join(dir, 'inbox', `frame-${String(next).padStart(6, '0')}.shard-0.0.live.json`), JSON.stringify(delta));
    const m = openMergerOn(openStoreContext(dir));
    try {
      m.merge();
    } finally {
      m.close();
    }
    await page.waitForSelector(`[data-testid=state-frame][data-frame="${next}"]`, { timeout: 10_000 });
    expect(await page.inputValue('[data-testid=frame-input]')).toBe(String(next));
    await screenshot(page, 'live');
  });
});
