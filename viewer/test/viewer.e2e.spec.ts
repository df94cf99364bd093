import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMergerOn, openStore } from '../../src/store/openStore.js';
import { openStoreContext } from '../../src/store/storeContext.js';
import { createServer, type FramelogServer } from '../../src/server/createServer.js';
import { ensureToken } from '../../src/server/token.js';
import { jsonDiff } from '../src/jsonDiff.js';
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

type Side = { value: unknown; writer: string; frame: number };
type C = {
  merge: number; kind: string; conflict?: string; policy?: unknown; type?: string; id?: string; field?: string; collection?: string; key?: string;
  frame?: number; writer?: string; seq?: number; base?: unknown; winner?: Side; losers?: Side[]; kept?: string; other?: string;
  resolvedBy?: { merge: number; writer: string };
};
const side = (s: Side) => `${json(s.value)} by ${s.writer} @${s.frame}`;
/** A conflict as the conflicts table shows it: id, merge, kind, place, policy, base, winner, losers, status. */
const conflictRow = (c: C): string[] => [
  c.conflict!, String(c.merge), c.kind,
  c.kind === 'field' ? `${c.type}/${c.id}.${c.field}` : c.kind === 'item' ? `${c.collection}[${c.key}]` : `delta ${c.frame}/${c.writer}/${c.seq}`,
  c.kind === 'field' && c.policy !== undefined ? (typeof c.policy === 'string' ? c.policy : 'priority') : '',
  c.kind === 'field' ? json(c.base) : '',
  c.kind === 'delta' ? `kept ${c.kept!.slice(0, 12)}` : side(c.winner!),
  c.kind === 'delta' ? `other ${c.other!.slice(0, 12)}` : c.losers!.map(side).join('; '),
  c.resolvedBy ? `resolved by ${c.resolvedBy.writer} @${c.resolvedBy.merge}` : 'open resolve',
];

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

  it('the state tree marks what changed since frame N − 1, whichever frame was viewed before, and says so (#18 point 15)', async () => {
    const { url } = stores.evolution;
    const leaves = async (): Promise<Map<string, string>> => new Map((await collectRows(page, 'state-tree')).filter((r) => r.data.kind === 'leaf').map((r) => [r.data.path, r.data.value]));
    await open(`${url}/?view=state&expand=all&frame=30`);
    for (const frame of [30, 10]) {
      if (frame !== 30) await scrubTo(frame);
      await page.waitForSelector(`[data-testid=state-frame][data-frame="${frame}"]`);
      await page.waitForSelector('[data-testid=changed-legend]');
      expect(await page.textContent('[data-testid=changed-legend]')).toContain(`changed since frame ${frame - 1}`);
      const rows = await collectRows(page, 'state-tree');
      const marked = rows.filter((r) => r.data.changed === '1').map((r) => r.data.path).sort();
      const now = await leaves();
      await scrubTo(frame - 1);
      await page.waitForSelector(`[data-testid=state-frame][data-frame="${frame - 1}"]`);
      const then = await leaves();
      const expected = [...now].filter(([k, v]) => then.get(k) !== v).map(([k]) => k).sort();
      expect(marked, `frame ${frame}`).toEqual(expected);
      expect(expected.length).toBeGreaterThan(0);
      await scrubTo(40); // view another frame first: the marks must not depend on it
    }
  });

  it('beside the state: the deltas of the merge shown, each one click from its JSON, and the history of a clicked field with its conflicts (#18 points 10, 11)', async () => {
    const { url, dir } = stores.fleet;
    type R = { frame: number; applied: Array<{ writer: string; frame: number; seq: number }> };
    const log = ndjson<R>(cli(dir, 'log'));
    const last = log.at(-1)!.frame;
    await open(`${url}/?view=state&expand=all&frame=${last}`);
    await page.waitForSelector(`[data-testid=state-frame][data-frame="${last}"]`);
    // The merge's deltas: as many as it archived, and a click shows that delta as received.
    await page.waitForSelector('[data-testid=merge-delta]');
    const archived = (await (await fetch(`${url}/api/archive?merge=${last}`)).json()) as { deltas: Array<{ delta: { writer: string; seq: number } }> };
    const listed = await page.$$eval('[data-testid=merge-delta]', (els) => els.map((e) => (e as HTMLElement).dataset.writer));
    expect(listed).toEqual(archived.deltas.map((d) => d.delta.writer));
    expect(listed.length).toBeGreaterThanOrEqual(log.at(-1)!.applied.length);
    await page.locator('[data-testid=merge-delta]').nth(1).click();
    expect(JSON.parse((await page.textContent('[data-testid=merge-deltas] [data-testid=delta-json]'))!)).toEqual(archived.deltas[1].delta);
    // A field's history: every write the library lists, newest first, losers linked to their conflict.
    const leaf = JSON.stringify(['entities', 'board', 'latest', 'item']);
    await page.locator(`[data-testid=state-tree] [data-path='${leaf}']`).click();
    await page.waitForSelector('[data-testid=history-write]');
    const store = await openStore(dir);
    const want = await store.fieldHistory('board', 'latest', 'item', { limit: 50 });
    const rows = await page.$$eval('[data-testid=history-write]', (els) => els.map((e) => [Number((e as HTMLElement).dataset.merge), (e as HTMLElement).dataset.outcome]));
    expect(rows).toEqual(want.writes.map((w) => [w.merge, w.outcome]));
    expect(rows.some((r) => r[1] === 'lost')).toBe(true);
    await screenshot(page, 'state-history');
    const lost = want.writes.find((w) => w.outcome === 'lost')!;
    await page.locator(`[data-testid=history-write][data-merge="${lost.merge}"][data-outcome=lost] [data-testid=history-conflict]`).first().click();
    await page.waitForSelector('[data-testid=view-conflicts]');
    const u = new URL(page.url());
    expect([u.searchParams.get('frame'), u.searchParams.get('type'), u.searchParams.get('id'), u.searchParams.get('field')]).toEqual([String(lost.merge), 'board', 'latest', 'item']);
    await page.waitForFunction((id) => document.querySelector('[data-testid=conflict-rows]')?.textContent?.includes(id), lost.conflict!);
  });

  it('counter charts: any counter picked from the list, drawn over the frames as framelog state says, the timeline\'s frame marked, a click moves it (#18 point 13)', async () => {
    const { url, dir } = stores.fleet;
    const log = ndjson<{ frame: number }>(cli(dir, 'log'));
    const last = log.at(-1)!.frame;
    await open(`${url}/?view=counters&frame=10`);
    await page.waitForSelector('[data-testid=counter-picker] input');
    const names = await page.$$eval('[data-testid=counter-picker] input', (els) => els.map((e) => (e as HTMLInputElement).value));
    const final = JSON.parse(cli(dir, 'state')) as { counters: Record<string, number> };
    expect(names).toEqual(Object.keys(final.counters).sort());
    expect(names.length).toBeGreaterThan(1);
    const [one, two] = names;
    await page.check(`[data-testid="counter-${two}"]`);
    await page.waitForSelector(`polyline[data-counter="${two}"]`);
    // Each line's points: one per merge, its height the counter's value in framelog state --at N.
    const drawn = await page.$$eval('polyline[data-counter]', (ls) => ls.map((l) => [l.getAttribute('data-counter'), l.getAttribute('points')!.split(' ').length]));
    expect(drawn).toEqual([[one, log.length], [two, log.length]]);
    const at10 = JSON.parse(cli(dir, 'state', '--at', '10')) as { counters: Record<string, number> };
    expect(await page.textContent('[data-testid=counter-readout]')).toBe(`frame 10: ${one} = ${at10.counters[one] ?? 0} · ${two} = ${at10.counters[two] ?? 0}`);
    expect(new URL(page.url()).searchParams.get('counters')).toBe(`${one},${two}`);
    // A click near the right end of the chart moves the timeline to the last merge.
    const box = (await page.locator('[data-testid=counter-chart] svg').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.96, box.y + box.height / 2);
    await page.waitForFunction((f) => new URL(location.href).searchParams.get('frame') === String(f), last);
    await page.waitForFunction((f) => document.querySelector('[data-testid=counter-readout]')?.textContent?.startsWith(`frame ${f}:`), last);
    await screenshot(page, 'counters');
  });

  it('the diff view opens a changed array or object: what changed inside, leaf by leaf, and both whole values uncut (#18 point 12)', async () => {
    const { url, dir } = stores.evolution;
    type F = { type: string; id: string; field: string; old?: unknown; new: unknown };
    let at = 0, c: F | undefined;
    for (at = 11; at <= 40 && !c; at++) c = (JSON.parse(cli(dir, 'diff', String(at - 1), String(at), '--json')) as { fields: F[] }).fields.find((f) => Array.isArray(f.new) && Array.isArray(f.old));
    expect(c, 'a field holding an array that changed').toBeDefined();
    at--;
    await open(`${url}/?view=diff&from=${at - 1}&to=${at}`);
    await page.waitForSelector(`[data-testid=diff-summary][data-to="${at}"]`);
    const rows = page.locator('[data-testid=diff-rows] .row.nested[data-kind=field]');
    const n = await rows.count();
    let clicked = false;
    for (let i = 0; i < n && !clicked; i++) {
      const r = rows.nth(i);
      const place = await Promise.all(['.c-type', '.c-id', '.c-field'].map((k) => r.locator(k).textContent()));
      if (place.join('/') === `${c!.type}/${c!.id}/${c!.field}`) {
        await r.click();
        clicked = true;
      }
    }
    expect(clicked, `row ${c!.type}/${c!.id}.${c!.field} shown`).toBe(true);
    await page.waitForSelector('[data-testid=diff-detail]');
    const inner = await page.$$eval('[data-testid=diff-inner]', (els) => els.map((e) => [(e as HTMLElement).dataset.path, (e as HTMLElement).dataset.change]));
    const { changes } = jsonDiff(c!.old, c!.new);
    expect(inner).toEqual(changes.map((x) => [JSON.stringify(x.path), x.kind]));
    expect(inner.length).toBeGreaterThan(0);
    // The whole value after, uncut, one click away.
    await page.getByRole('button', { name: 'Whole value after' }).click();
    expect(JSON.parse((await page.locator('[data-testid=diff-detail] pre').nth(1).textContent())!)).toEqual(c!.new);
    await screenshot(page, 'diff-nested');
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
    const rowOf = conflictRow;
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

  it('resolving from the viewer: an open conflict, a side picked, the token asked for once; after the merge it shows resolved, linked to its delta', async () => {
    const { url, dir } = stores.fleet;
    await open(`${url}/?view=conflicts&status=open&type=tasks`);
    await page.waitForSelector('[data-testid=conflict-rows][data-ready]');
    const openRows = ndjson<C>(cli(dir, 'conflicts', '--open', '--type', 'tasks'));
    expect(openRows.length).toBeGreaterThan(0);
    expect((await collectRows(page, 'conflict-rows')).map((r) => r.cells)).toEqual(openRows.map(conflictRow));
    const target = openRows[0];
    const loser = target.losers![0];
    await page.click(`[data-testid="resolve-${target.conflict}"]`);
    await page.waitForSelector('[data-testid=resolve-form]');
    const options = await page.$$eval('[data-testid=resolve-how] option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    const sideIndex = [target.winner!, ...target.losers!].indexOf(loser);
    expect(options).toContain(`side:${sideIndex}`);
    await page.selectOption('[data-testid=resolve-how]', `side:${sideIndex}`);
    await page.fill('[data-testid=resolve-as]', 'human.viewer-test');
    // The token, asked for once: a wrong one is refused and asked for again, then the right one.
    const answers = ['wrong-token', fs.readFileSync(path.join(dir, '.secrets', 'token'), 'utf8').trim()];
    const onDialog = (d: import('playwright-core').Dialog) => void d.accept(answers.shift());
    page.on('dialog', onDialog);
    await page.click('[data-testid=resolve-submit]');
    await page.waitForFunction(() => /resolution put/.test(document.querySelector('[data-testid=resolve-note]')?.textContent ?? ''));
    page.off('dialog', onDialog);
    expect(answers).toEqual([]);
    await screenshot(page, 'conflicts-resolve');
    cli(dir, 'merge');
    const resolved = ndjson<C>(cli(dir, 'conflicts', '--resolved'));
    expect(resolved.map((c) => c.conflict)).toContain(target.conflict);
    expect(JSON.parse(cli(dir, 'state')).entities.tasks[target.id!].owner).toBe(loser.value);
    await open(`${url}/?view=conflicts&status=resolved`);
    await page.waitForSelector('[data-testid=conflict-rows][data-ready]');
    const rows = await collectRows(page, 'conflict-rows');
    expect(rows.map((r) => r.cells)).toEqual(resolved.map(conflictRow));
    const link = await page.getAttribute(`[data-conflict="${target.conflict}"] a.c-status`, 'href');
    const r = resolved.find((c) => c.conflict === target.conflict)!.resolvedBy!;
    expect(link).toBe(`/api/archive?merge=${r.merge}&writer=${r.writer}`);
    const archived = await (await fetch(`${url}${link}`)).json() as { deltas: Array<{ delta: { resolves?: string[] } }> };
    expect(archived.deltas.some((d) => d.delta.resolves?.includes(target.conflict!))).toBe(true);
    await screenshot(page, 'conflicts-resolved');
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

  it('a store without migrations or a register: no Migration log button, no failed request, no console error (#18 point 15)', async () => {
    const { url } = stores.evolution;
    const failed: string[] = [];
    const onResponse = (r: { status(): number; url(): string }): void => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    };
    const onConsole = (m: { type(): string; text(): string }): void => {
      if (m.type() === 'error') failed.push(`console: ${m.text()}`);
    };
    page.on('response', onResponse);
    page.on('console', onConsole);
    try {
      await open(`${url}/?view=events`);
      await page.waitForSelector('[data-testid=event-rows][data-ready]');
      await page.waitForFunction(() => ((document.querySelector('[data-testid=event-type]') as HTMLSelectElement | null)?.options.length ?? 0) > 1); // the event types arrived
      expect(await page.$('[data-testid=migration-log]')).toBeNull();
      await open(`${url}/?view=demo`);
      await page.waitForSelector('[data-testid=panel-evolution]:not([hidden])');
      await page.waitForFunction(() => /Demo views in this store/.test(document.body.textContent ?? ''));
      await open(`${url}/?view=dispatches`);
      await page.waitForFunction(() => /no register stream/.test(document.body.textContent ?? ''));
      expect(failed).toEqual([]);
    } finally {
      page.off('response', onResponse);
      page.off('console', onConsole);
    }
    // The ecosystem store has migrations: the button is there.
    await open(`${stores.ecosystem.url}/?view=events`);
    await page.waitForSelector('[data-testid=migration-log]');
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
    // Frame numbers above the lanes are never cut by the grid's edge (#18 point 15: "180" showed as "18").
    await open(`${url}/?view=writers&frame=10`);
    await page.waitForSelector('[data-testid=lanes][data-frame="10"]');
    const labels = await page.$$eval('[data-testid=lane-label]', (els) => {
      const g = document.querySelector('[data-testid=lanes]')!.getBoundingClientRect();
      return els.map((e) => ({ text: e.textContent, frame: (e.parentElement as HTMLElement).title, inside: e.getBoundingClientRect().right <= g.right + 0.5 }));
    });
    expect(labels.filter((l) => l.text !== '▼').length).toBeGreaterThan(0);
    for (const l of labels) {
      expect(l.inside, `label ${l.text} (${l.frame}) inside the grid`).toBe(true);
      if (l.text !== '▼') expect(`frame ${l.text}`).toBe(l.frame);
    }
  });

  it('the stream browser jumps to a cursor or a time and shows the compaction segments, each a click from its first record (#18 point 14)', async () => {
    const { url, dir } = stores.evolution;
    const at = (i: number) => new Date(Date.UTC(2026, 11, 7, 10, 0, i)).toISOString();
    const append = (from: number, n: number): number[] => Array.from({ length: n }, (_, k) => (JSON.parse(execFileSync(process.execPath, [MAIN, 'append', 'timed', JSON.stringify({ type: 'tick', i: from + k, ts: at(from + k) }), '--dir', dir, '--json'], { encoding: 'utf8' })) as { cursor: number }).cursor);
    const cursors = [...append(0, 8)];
    cli(dir, 'compact', 'timed');
    cursors.push(...append(8, 8));
    cli(dir, 'compact', 'timed');
    cursors.push(...append(16, 4));
    const firstShown = async (): Promise<number> => {
      await page.waitForSelector('[data-testid=stream-rows] .row[data-cursor]');
      return Number(await page.getAttribute('[data-testid=stream-rows] .row[data-cursor]', 'data-cursor'));
    };
    await open(`${url}/?view=streams&stream=timed`);
    await page.waitForSelector('[data-testid=stream-segment]');
    expect(await page.$$eval('[data-testid=stream-segment]', (els) => els.map((e) => Number((e as HTMLElement).dataset.first)))).toEqual([cursors[0], cursors[8]]);
    expect(await page.textContent('[data-testid=stream-segments]')).toContain(`8 records, cursors ${cursors[8]}–${cursors[16]} · ${at(8).replace('T', ' ').replace('Z', '')}`);
    await page.locator('[data-testid=stream-segment]').nth(1).click();
    await page.waitForFunction((c) => document.querySelector('[data-testid=stream-rows] .row[data-cursor]')?.getAttribute('data-cursor') === String(c), cursors[8]);
    expect(await firstShown()).toBe(cursors[8]);
    await page.fill('[data-testid=stream-jump]', at(13));
    await page.press('[data-testid=stream-jump]', 'Enter');
    await page.waitForFunction((c) => document.querySelector('[data-testid=stream-rows] .row[data-cursor]')?.getAttribute('data-cursor') === String(c), cursors[13]);
    expect(new URL(page.url()).searchParams.get('at')).toBe(at(13));
    await page.fill('[data-testid=stream-jump]', String(cursors[17]));
    await page.press('[data-testid=stream-jump]', 'Enter');
    await page.waitForFunction((c) => document.querySelector('[data-testid=stream-rows] .row[data-cursor]')?.getAttribute('data-cursor') === String(c), cursors[17]);
    await page.click('[data-testid=stream-live]');
    await page.waitForFunction((c) => document.querySelector('[data-testid=stream-rows] .row[data-cursor]')?.getAttribute('data-cursor') === String(c), cursors[16]);
    await screenshot(page, 'streams-segments');
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
    // The cladogram follows the timeline (#18 point 15): at frame 20 it shows the species born by then.
    await open(`${stores.evolution.url}/?view=demo&frame=20`);
    await page.waitForSelector('[data-testid=cladogram][data-frame="20"]');
    await page.waitForFunction(() => ((document.querySelector('[data-testid=cladogram]') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0);
    const clade = JSON.parse(fs.readFileSync(path.join(stores.evolution.dir, 'views', 'evolution', 'cladogram.json'), 'utf8')) as { lastFrame: number; nodes: Array<{ born: number }> };
    const at20 = await (await fetch(`${stores.evolution.url}/api/cladogram.svg?frame=20`)).text();
    expect(at20).toContain(`Cladogram: ${clade.nodes.filter((n) => n.born <= 20).length} species`);
    expect(at20).toContain('extant at frame 20');
    await scrubTo(clade.lastFrame);
    await page.waitForSelector(`[data-testid=cladogram][data-frame="${clade.lastFrame}"]`);
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
