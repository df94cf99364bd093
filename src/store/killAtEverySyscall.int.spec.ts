import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreContext } from './storeContext.js';
import { verifyStore } from './history/verifyStore.js';
import { readLog, queryConflicts, queryEvents } from './history/journalQueries.js';
import { loadStateAt } from './history/stateAt.js';
import { stateJson } from '../merge/canonicalState.js';
import { readIntent } from './commit/mergeIntent.js';
import { readLagMarker } from './commit/lazyJournals.js';

// Kill the merger at every file-changing system call it makes (strace's fault injection counts
// each call of one syscall separately), re-run the merge, and check the store is whole: verify
// green, and the state and merge records equal a clean run's. This is PROTOCOL §3's promise that
// a crash anywhere leaves the old state or the new one, tested with a real SIGKILL.
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SYSCALLS = ['openat', 'write', 'fsync', 'fdatasync', 'rename', 'link', 'unlink', 'mkdir', 'ftruncate'];
const hasStrace = spawnSync('strace', ['-V']).status === 0;
const root = mkdtempSync(join(tmpdir(), 'framelog-kill-'));
const fixture = join(root, 'fixture');
const cli = (args: string[], input?: string) => execFileSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });

/** What must not depend on where the merger was killed: records without wall-clock fields. */
function outcome(dir: string) {
  const ctx = openStoreContext(dir);
  const log = readLog(ctx).map(({ utc: _u, prev: _p, ...rest }) => rest);
  return { state: stateJson(loadStateAt(ctx)), log, conflicts: JSON.stringify(queryConflicts(ctx)).replace(/"utc":"[^"]*"/g, ''), events: queryEvents(ctx) };
}

const run = (cmd: string, args: string[]) => new Promise<number | null>((res) => spawn(cmd, args, { stdio: 'ignore' }).on('exit', (code) => res(code)));

beforeAll(() => {
  cli(['init', '--dir', fixture]);
  cli(['put', '-', '--dir', fixture], [1, 2].map((f) => JSON.stringify({ frame: f, writer: 'a', utc: `2026-04-19T14:30:0${f}Z`, counters: { n: 1 } })).join('\n'));
  cli(['merge', '--dir', fixture]);
  cli(['put', '-', '--dir', fixture], [
    { frame: 3, writer: 'a', utc: '2026-04-19T14:30:03Z', counters: { n: 1 }, set: { x: { '1': { v: 'a' } } }, events: [{ type: 'e' }] },
    { frame: 3, writer: 'b', utc: '2026-04-19T14:30:04Z', counters: { n: 2 }, set: { x: { '1': { v: 'b' } } } },
    { frame: 1, writer: 'c', utc: '2026-04-19T14:30:01Z', counters: { n: 4 } },
    { frame: 4, writer: 'a', utc: '2026-04-19T14:30:05Z', items: { p: [{ id: 1 }] } },
  ].map((d) => JSON.stringify(d)).join('\n'));
  writeFileSync(join(fixture, 'inbox', 'bad.json'), 'nope');
  writeFileSync(join(fixture, 'inbox', 'copy-of-a1.json'), JSON.stringify({ frame: 1, writer: 'a', utc: '2026-04-19T14:30:01Z', counters: { n: 1 } }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!hasStrace && !process.env.CI)('a merge killed at every file-changing system call', () => {
  it('always leaves a whole store, and the re-run equals a clean run', { timeout: 600_000 }, async () => {
    expect(hasStrace, 'strace is needed (apt-get install strace)').toBe(true);
    const clean = join(root, 'clean');
    cpSync(fixture, clean, { recursive: true });
    // Trace a clean run (-y: every file descriptor with its path) and number each syscall's calls.
    // A kill lands before the call it is injected at; two kills with no change to the store between
    // them leave the same files, so the cases are the calls that change the store (a write, rename,
    // link, unlink, truncate or mkdir in it, an open that may create or truncate a file there) and
    // its fsyncs: each distinct point a crash can stop the merge at, once (node's own module loads
    // and the reads of the store add nothing but time).
    const trace = join(root, 'trace.txt');
    // The same stdio as the cases' runs (ignored): node's calls at start-up depend on it.
    expect(spawnSync('strace', ['-f', '-qq', '-y', '-o', trace, '-e', `trace=${SYSCALLS.join(',')}`, process.execPath, CLI, 'merge', '--dir', clean], { stdio: 'ignore' }).status).toBe(0);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const want = outcome(clean);
    expect(JSON.parse(want.state).counters.n).toBe(9);
    const changesStore = (s: string, line: string): boolean => {
      if (!line.includes(clean) || / = -1 E(EXIST|NOENT)/.test(line)) return false;
      return s !== 'openat' || /O_CREAT|O_TRUNC|O_WRONLY|O_RDWR/.test(line);
    };
    // strace counts an injection's calls per tracee (each thread apart): number them so.
    const seen = new Set<string>();
    const perThread = new Map<string, number>();
    for (const line of lines) {
      const m = /^(\d+) +([a-z0-9_]+)\(/.exec(line);
      if (!m || !SYSCALLS.includes(m[2])) continue;
      const key = `${m[1]} ${m[2]}`;
      const n = (perThread.get(key) ?? 0) + 1;
      perThread.set(key, n);
      if (changesStore(m[2], line)) seen.add(`${m[2]} ${n}`);
    }
    const cases = [...seen].map((c) => c.split(' ')).map(([sc, n]) => [sc, Number(n)] as [string, number]);
    expect(cases.length).toBeGreaterThan(40);
    for (const s of ['write', 'rename', 'link', 'fdatasync']) expect(cases.some(([c]) => c === s), `no ${s} in the store traced`).toBe(true);
    let killed = 0;
    const missed: string[] = [];
    const failures: string[] = [];
    const one = async ([s, n]: [string, number], i: number) => {
      const dir = join(root, `case-${i}`);
      cpSync(fixture, dir, { recursive: true });
      const code = await run('strace', ['-f', '-qq', '-o', '/dev/null', '-e', `trace=${s}`, '-e', `inject=${s}:signal=KILL:when=${n}`, process.execPath, CLI, 'merge', '--dir', dir]);
      if (code !== 0) killed++;
      else missed.push(`${s}#${n}`);
      await run(process.execPath, [CLI, 'merge', '--dir', dir]);
      const report = verifyStore(openStoreContext(dir));
      const got = outcome(dir);
      if (!report.ok) failures.push(`${s}#${n}: verify: ${report.faults[0].file}: ${report.faults[0].message}`);
      else if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${s}#${n}: outcome differs: ${JSON.stringify(got).slice(0, 300)}`);
      // Nothing pending: no intent and no lag marker. An intent file cut to nothing by a kill between
      // its truncation and its write is idle (a torn intent is never acted on), which a re-run with
      // nothing to merge leaves as it is.
      else if (readIntent(openStoreContext(dir)) !== undefined || readLagMarker(openStoreContext(dir)) !== undefined) failures.push(`${s}#${n}: intent left behind: ${JSON.stringify(readFileSync(join(dir, 'journal', 'merge-intent.json'), 'utf8').slice(0, 120))}`);
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < cases.length; i += 2) await Promise.all(cases.slice(i, i + 2).map((c, j) => one(c, i + j)));
    expect(failures).toEqual([]);
    // Every injection falls on a call the merge makes: nearly all really kill it.
    expect(killed, `not killed: ${missed.join(' ')}`).toBeGreaterThan(cases.length * 0.8);
    console.log(`${cases.length} kill points (${[...new Set(cases.map(([c]) => c))].join(', ')}), ${killed} killed the merge`);
  });
});
