import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStreamAppender, type StreamRecord } from '../stream/index.js';
import { fixtureDispatches, writeOrchestratorStreams } from '../query/testing/orchestratorFixture.js';
import { registerProjection, updateView, viewFile, watchView, type Projection, type RegisterView } from './index.js';

const repo = path.resolve(import.meta.dirname, '../..');
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-view-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const dispatches = fixtureDispatches(40, 3);

describe('views are a cache of the log', () => {
  it('the register projection gives each dispatch its last lifecycle state', async () => {
    await writeOrchestratorStreams(dir, dispatches);
    const { view } = await updateView(dir, registerProjection);
    for (const d of dispatches) {
      expect(view.state.dispatches[d.id]!.state).toBe(d.terminal ?? 'running');
      expect(view.state.dispatches[d.id]!.worker).toBe(d.worker);
    }
    expect(Object.keys(view.state.dispatches)).toHaveLength(dispatches.length);
  });

  it('deleting views/ and rebuilding gives the identical file', async () => {
    await writeOrchestratorStreams(dir, dispatches);
    const first = await updateView(dir, registerProjection);
    const bytes = fs.readFileSync(first.file);
    fs.rmSync(path.join(dir, 'views'), { recursive: true });
    const again = await updateView(dir, registerProjection);
    expect(again.rebuilt).toBe('missing');
    expect(fs.readFileSync(again.file)).toEqual(bytes);
  });

  it('an incremental update after N new records equals a full rebuild', async () => {
    await writeOrchestratorStreams(dir, dispatches.slice(0, 20));
    await updateView(dir, registerProjection);
    const a = openStreamAppender(dir, 'register', { durability: 'none' });
    const extra: StreamRecord[] = [];
    for (let i = 0; i < 57; i++) extra.push({ ts: new Date(Date.UTC(2026, 4, 1, 0, 0, i)).toISOString(), type: 'transition', dispatch_id: `d-${String(i % 25).padStart(3, '0')}`, state: i % 3 === 0 ? 'done' : 'running' });
    extra.push({ ts: '2026-05-02T00:00:00.000Z', type: 'transition', dispatch_id: '__proto__', state: 'queued' });
    await a.appendBatch(extra);
    await a.close();
    const inc = await updateView(dir, registerProjection);
    expect(inc.rebuilt).toBeUndefined();
    expect(inc.applied).toBe(58);
    const incBytes = fs.readFileSync(inc.file);
    const full = await updateView(dir, registerProjection, { rebuild: true });
    expect(full.applied).toBeGreaterThan(58);
    expect(fs.readFileSync(full.file)).toEqual(incBytes);
    expect(Object.hasOwn((full.view.state as RegisterView).dispatches, '__proto__')).toBe(true);
    expect((await updateView(dir, registerProjection)).applied).toBe(0);
  });

  it('a changed definition (version or code) triggers a rebuild', async () => {
    await writeOrchestratorStreams(dir, dispatches.slice(0, 5));
    await updateView(dir, registerProjection);
    const bumped: Projection<RegisterView> = { ...registerProjection, version: registerProjection.version + 1 };
    const r1 = await updateView(dir, bumped);
    expect(r1.rebuilt).toBe('definition');
    const counting: Projection<{ n: number }> = {
      name: 'register', version: registerProjection.version + 1, sources: ['register'],
      initialState: () => ({ n: 0 }),
      evolve: (s) => ({ n: s.n + 1 }),
    };
    const r2 = await updateView(dir, counting);
    expect(r2.rebuilt).toBe('definition');
    expect(r2.view.state.n).toBe(JSON.parse(fs.readFileSync(viewFile(dir, 'register'), 'utf8')).state.n);
    expect(r2.view.state.n).toBe(fs.readFileSync(path.join(dir, 'streams/register.ndjson'), 'utf8').trim().split('\n').length);
  });

  it('watch mode keeps the view current as records arrive', async () => {
    const stop = new AbortController();
    const seen: number[] = [];
    const done = watchView(dir, registerProjection, (r) => seen.push(Object.keys(r.view.state.dispatches).length), { signal: stop.signal, pollMs: 50 });
    const a = openStreamAppender(dir, 'register', { durability: 'none' });
    for (let i = 0; i < 3; i++) {
      await a.append({ type: 'transition', dispatch_id: `w-${i}`, state: 'queued' });
      const t0 = Date.now();
      while (seen.at(-1) !== i + 1 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(seen.at(-1)).toBe(i + 1);
    }
    await a.close();
    stop.abort();
    await done;
  });

  it.skipIf(!fs.existsSync(path.join(repo, 'dist/cli/viewCommands.js')))('framelog view register prints the state; a cached read and --rebuild print the same bytes', async () => {
    await writeOrchestratorStreams(dir, dispatches.slice(0, 8));
    const cli = (...args: string[]) => execFileSync(process.execPath, [path.join(repo, 'dist/cli/main.js'), 'view', 'register', '--dir', dir, ...args], { encoding: 'utf8' });
    const built = cli();
    const a = JSON.parse(built);
    expect(Object.keys(a.dispatches)).toHaveLength(8);
    // The same bytes whether built now, read back from views/register.json, or rebuilt (canonical JSON).
    expect(cli()).toBe(built);
    expect(cli('--rebuild')).toBe(built);
  });
});
