import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The merger lock under fire (issue #20, points 1 and 2): a contender that fails to read the lock
// must not take it, and contenders racing while holders are SIGKILLed must never hold it together.
const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const LOCK_JS = fileURLToPath(new URL('../../../dist/store/commit/mergeLock.js', import.meta.url));
const hasStrace = spawnSync('strace', ['-V']).status === 0;
const root = mkdtempSync(join(tmpdir(), 'framelog-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = (args: string[], opts: { input?: string; cwd?: string } = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', ...opts, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const delta = (frame: number) => JSON.stringify({ frame, writer: 'w', utc: `2026-01-01T00:00:0${frame}Z`, counters: { n: 1 } }) + '\n';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

describe('the merger lock', () => {
  it.runIf(hasStrace)('a contender whose open of the lock fails (EMFILE) leaves a live merger holding it; nothing merges beside it', async () => {
    const store = join(root, 'emfile');
    expect(cli(['init', '--dir', store]).code).toBe(0);
    writeFileSync(join(store, 'framelog.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(store, 'framelog.json'), 'utf8')), writers: ['w'] }));
    const watcher = spawn(process.execPath, [CLI, 'merge', '--watch', '--dir', store], { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    watcher.stderr!.on('data', (c: Buffer) => (said += c));
    try {
      // The watcher says it started, then takes the lock: wait until the lock names it.
      const lockFile = join(store, 'merger.lock');
      while (!said.includes('merge --watch on') || !(existsSync(lockFile) && readFileSync(lockFile, 'utf8').includes(`"pid":${watcher.pid}`))) await sleep(20);
      const lockText = readFileSync(lockFile, 'utf8');
      expect(JSON.parse(lockText).pid).toBe(watcher.pid);
      // The contender's open of merger.lock fails with EMFILE (strace injects it on that path only).
      const r = spawnSync('strace', ['-f', '-o', '/dev/null', '-P', `${basename(store)}/merger.lock`, '-e', 'trace=openat', '-e', 'inject=openat:error=EMFILE', process.execPath, CLI, 'merge', '--dir', basename(store)], { cwd: dirname(store), encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/EMFILE/);
      expect(readFileSync(join(store, 'merger.lock'), 'utf8')).toBe(lockText);
      // A cron-style merge is refused, naming the watcher.
      expect(cli(['merge', '--dir', store])).toMatchObject({ code: 1, err: expect.stringContaining(`store is being merged by pid ${watcher.pid}`) });
      // The watcher goes on merging alone, frame after frame.
      for (const f of [1, 2, 3]) {
        expect(cli(['put', '-', '--dir', store], { input: delta(f) }).code).toBe(0);
        const t0 = Date.now();
        while (!(existsSync(join(store, 'journal/merges.ndjson')) && readFileSync(join(store, 'journal/merges.ndjson'), 'utf8').split('\n').filter(Boolean).length === f) && Date.now() - t0 < 15_000) await sleep(25);
      }
    } finally {
      watcher.kill('SIGTERM');
      await exited(watcher);
    }
    expect(cli(['verify', '--dir', store]).code).toBe(0);
    expect(cli(['state', '--dir', store]).out).toBe('{"counters":{"n":3},"entities":{},"items":{}}\n');
    expect(readFileSync(join(store, 'merger.lock'), 'utf8')).toBe(''); // released: names no holder
  });

  it('six contenders, holders SIGKILLed at random: never two holders at once', async () => {
    const dir = join(root, 'race');
    const log = join(dir, 'log');
    const script = join(root, 'contender.mjs');
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(log, '');
    // Each contender tries the lock in a loop; holding it, it writes "+pid", waits 0–3 ms, then
    // either writes "-pid" and releases, or (1 in 15) writes "kpid" and kills itself holding it.
    writeFileSync(script, `
      import { appendFileSync } from 'node:fs';
      const { acquireMergeLock } = await import(${JSON.stringify(LOCK_JS)});
      const [lockPath, log, rounds] = process.argv.slice(2);
      for (let i = 0; i < Number(rounds); i++) {
        let lock;
        try { lock = acquireMergeLock(lockPath); } catch (e) { if (e.code !== 'locked') throw e; await new Promise((r) => setTimeout(r, Math.random() * 2)); continue; }
        appendFileSync(log, '+' + process.pid + '\\n');
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        if (Math.random() < 1 / 15) { appendFileSync(log, 'k' + process.pid + '\\n'); process.kill(process.pid, 'SIGKILL'); }
        appendFileSync(log, '-' + process.pid + '\\n');
        lock.release();
      }
    `);
    let spawned = 0;
    const lane = async (): Promise<void> => {
      while (spawned < 60) {
        spawned++;
        const c = spawn(process.execPath, [script, join(dir, 'merger.lock'), log, '40'], { stdio: 'inherit' });
        await exited(c);
        expect(c.exitCode === 0 || c.signalCode === 'SIGKILL').toBe(true);
      }
    };
    await Promise.all(Array.from({ length: 6 }, lane));
    const entries = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    let holder: string | undefined;
    let holds = 0, kills = 0;
    const overlaps: string[] = [];
    for (const e of entries) {
      const [op, pid] = [e[0], e.slice(1)];
      if (op === '+') {
        if (holder !== undefined) overlaps.push(`${pid} took it while ${holder} held it`);
        holder = pid;
        holds++;
      } else if (holder !== pid) overlaps.push(`${e} without holding it`);
      else {
        holder = undefined; // released, or killed holding it (the kernel drops its lock)
        if (op === 'k') kills++;
      }
    }
    expect(overlaps).toEqual([]);
    expect(holds).toBeGreaterThan(200);
    expect(kills).toBeGreaterThan(3);
    appendFileSync(log, ''); // the log stays for a person reading a failure
  }, 240_000);
});
