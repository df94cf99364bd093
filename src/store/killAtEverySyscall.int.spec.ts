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
    // Count each syscall's calls in a clean run, and how many come before the store is touched.
    const trace = join(root, 'trace.txt');
    execFileSync('strace', ['-f', '-qq', '-o', trace, '-e', `trace=${SYSCALLS.join(',')}`, process.execPath, CLI, 'merge', '--dir', clean]);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const firstStore = lines.findIndex((l) => l.includes(clean));
    const want = outcome(clean);
    expect(JSON.parse(want.state).counters.n).toBe(9);
    const cases: Array<[string, number]> = [];
    for (const s of SYSCALLS) {
      const calls = lines.filter((l) => l.includes(` ${s}(`)).length;
      const before = lines.slice(0, firstStore).filter((l) => l.includes(` ${s}(`)).length;
      for (let n = Math.max(1, before - 2); n <= calls + 1; n++) cases.push([s, n]);
    }
    expect(cases.length).toBeGreaterThan(40);
    let killed = 0;
    const failures: string[] = [];
    const one = async ([s, n]: [string, number], i: number) => {
      const dir = join(root, `case-${i}`);
      cpSync(fixture, dir, { recursive: true });
      const code = await run('strace', ['-f', '-qq', '-o', '/dev/null', '-e', `trace=${s}`, '-e', `inject=${s}:signal=KILL:when=${n}`, process.execPath, CLI, 'merge', '--dir', dir]);
      if (code !== 0) killed++;
      await run(process.execPath, [CLI, 'merge', '--dir', dir]);
      const report = verifyStore(openStoreContext(dir));
      const got = outcome(dir);
      if (!report.ok) failures.push(`${s}#${n}: verify: ${report.faults[0].file}: ${report.faults[0].message}`);
      else if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${s}#${n}: outcome differs: ${JSON.stringify(got).slice(0, 300)}`);
      else if (readFileSync(join(dir, 'journal', 'merge-intent.json'), 'utf8') !== '{}\n') failures.push(`${s}#${n}: intent left behind`);
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < cases.length; i += 2) await Promise.all(cases.slice(i, i + 2).map((c, j) => one(c, i + j)));
    expect(failures).toEqual([]);
    // Most injections really killed the merger (the rest fell on calls that did not happen).
    expect(killed).toBeGreaterThan(cases.length / 3);
  });
});
