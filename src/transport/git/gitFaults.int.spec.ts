import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { identityKey } from '../../delta/identity.js';
import { readLog } from '../../store/history/journalQueries.js';
import { openStoreContext } from '../../store/storeContext.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import { initGitStore } from './gitStore.js';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-git-faults-'));
afterAll(() => (process.env.FRAMELOG_KEEP ? console.log(`kept ${root}`) : rmSync(root, { recursive: true, force: true })));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' });

/** Runs the CLI in its own process group; `kill()` SIGKILLs it and every git it started. */
function start(args: string[]): { child: ChildProcess; done: Promise<number | null>; stderr(): string; kill(): void } {
  const child = spawn(process.execPath, [CLI, ...args], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const done = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, done, stderr: () => err, kill: () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } } };
}

describe('git transport under SIGKILL', () => {
  // A merger killed inside `git merge --ff-only` once left a torn, untracked inbox file that the
  // recovery commit added, and its rebase onto the writers' commit conflicted; the restart now
  // drops such files (the remote holds them whole). FRAMELOG_GIT_FAULTS=<n> repeats the run n times.
  it.each(Array.from({ length: Number(process.env.FRAMELOG_GIT_FAULTS ?? 1) }, (_, i) => i))('run %i: writers killed mid-put and a merger killed again and again mid-merge, mid-commit and mid-push: every delta applied exactly once, verify green', async (run) => {
    const base = join(root, `run${run}`);
    const url = join(base, 'shared.git'), store = join(base, 'merger');
    const writers = ['w0', 'w1', 'w2'];
    await initGitStore({ url, dir: store, plan: { writers, frameTimeoutMs: 400 } });
    mkdirSync(join(base, 'in'));
    const FRAMES = 14;
    let seed = 12345 + 7919 * run;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const sent = new Set<string>();
    let writerKills = 0, mergerKills = 0;
    const mergerErrors: string[] = [];

    const writer = async (w: string) => {
      for (let f = 1; f <= FRAMES; f++) {
        const file = join(base, 'in', `${w}-${f}.json`);
        writeFileSync(file, JSON.stringify({ frame: f, writer: w, utc: new Date(Date.UTC(2026, 4, 1, 0, 0, f)).toISOString(), counters: { n: 1 }, set: { board: { leader: { by: w } } } }));
        sent.add(identityKey({ frame: f, writer: w, seq: 0 }));
        const args = ['put', '--transport', 'git', '--url', url, '--clone', join(base, 'clones', w), file];
        if (f > 1 && rnd() < 0.35) {
          const p = start(args);
          await sleep(80 + rnd() * 400); // somewhere in node start-up, landing, fast-import or the push
          p.kill();
          if ((await p.done) !== 0) writerKills++;
        }
        const p = start(args); // the writer restarted: puts the same delta again
        expect(await p.done, p.stderr()).toBe(0);
      }
    };

    let stop = false;
    const merger = async () => {
      while (!stop) {
        const p = start(['merge', '--transport', 'git', '--url', url, '--dir', store, '--watch']);
        const ended = await Promise.race([p.done.then(() => true), sleep(300 + rnd() * 1500).then(() => false)]);
        p.kill();
        const code = await p.done;
        if (ended) mergerErrors.push(`merger exited ${code}: ${p.stderr().trim()}`);
        mergerKills++;
      }
    };
    const m = merger();
    await Promise.all(writers.map(writer));
    stop = true;
    await m;
    // A clean run closes whatever is still pending.
    const last = spawnSync(process.execPath, [CLI, 'merge', '--transport', 'git', '--url', url, '--dir', store], { encoding: 'utf8' });
    expect(last.status, last.stderr).toBe(0);
    console.log(JSON.stringify({ writerKills, mergerKills }));
    expect(mergerErrors).toEqual([]); // a merger never gave up by itself
    expect(mergerKills).toBeGreaterThan(3);

    const ctx = openStoreContext(store);
    const records = readLog(ctx);
    const applied = records.flatMap((r) => r.applied.map((a) => identityKey(a)));
    expect(new Set(applied).size).toBe(applied.length); // nothing applied twice
    expect(new Set(applied)).toEqual(sent); // nothing lost
    expect(verifyStore(ctx).ok).toBe(true);
    // The merger's tree is committed and pushed; history only ever moved forward.
    expect(git(store, 'status', '--porcelain')).toBe('');
    expect(git(store, 'rev-parse', 'HEAD')).toBe(git(url, 'rev-parse', 'main'));
    const subjects = git(url, 'log', '--reverse', '--format=%s', 'main').trim().split('\n');
    const merged = subjects.filter((s) => s.startsWith('merge frame')).map((s) => Number(s.slice(12)));
    expect(merged).toEqual(records.map((r) => r.frame));
    const tips = git(url, 'reflog', 'show', '--format=%H', 'main').trim().split('\n').reverse();
    for (let i = 1; i < tips.length; i++) expect(spawnSync('git', ['merge-base', '--is-ancestor', tips[i - 1], tips[i]], { cwd: url }).status).toBe(0);
  }, 240_000);
});
