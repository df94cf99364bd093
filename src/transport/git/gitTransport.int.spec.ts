import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readLog } from '../../store/history/journalQueries.js';
import { openMergerOn } from '../../store/openStore.js';
import { initStore, openStoreContext } from '../../store/storeContext.js';
import { decodeSegment, encodeSegment } from '../../store/history/archiveSegment.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import { createFsTransport } from '../fs/fsTransport.js';
import { runTransportMerger } from '../runTransportMerger.js';
import { openGitTransport } from './gitTransport.js';
import { initGitStore } from './gitStore.js';
import { removeStaleRemoteLock } from './staleRemoteLock.js';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-git-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const NOW = Date.parse('2026-06-01T00:00:00Z');
const gitOut = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' });
const cli = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const delta = (frame: number, writer: string, extra: Record<string, unknown> = {}, seq = 0) =>
  JSON.stringify({ frame, writer, utc: `2026-05-01T00:00:0${frame % 10}.000Z`, seq, counters: { n: 1 }, set: { board: { leader: { by: writer } } }, ...extra });
let n = 0;
async function fresh(writers: string[] = []) {
  const dir = join(root, `t${n++}`);
  const url = join(dir, 'shared.git'), store = join(dir, 'merger');
  await initGitStore({ url, dir: store, plan: { writers } });
  return { dir, url, store };
}

/** A fresh store, writer w1 having put `frames` (one delta each), and the merger's transport having pulled them. */
async function givenPulled(frames: number[]) {
  const t = await fresh();
  const w = await openGitTransport({ url: t.url, dir: join(t.dir, 'w1'), identity: 'w1' });
  await w.put(frames.map((f) => Buffer.from(delta(f, 'w1'))));
  const m = await openGitTransport({ url: t.url, dir: t.store, role: 'merger' });
  await m.pull();
  return { t, w, m };
}

/** Merges what is pending in the merger's store and commits each merge, without pushing (a merger that dies next). */
function mergeWithoutPushing(store: string, m: Awaited<ReturnType<typeof openGitTransport>>): void {
  const merger = openMergerOn(openStoreContext(store));
  for (const r of merger.merge({ now: () => NOW })) m.merger!.committed!(r);
  merger.close();
}

describe('git transport', () => {
  it('a ref lock that a push killed mid-update left in the bare repository is removed once stale, and the writer\'s and the merger\'s pushes go through; a young one is left alone', async () => {
    const { dir, url, store } = await fresh(['w1']);
    const lock = join(url, 'refs', 'heads', 'main.lock');
    const stale = (): void => {
      writeFileSync(lock, '');
      const old = new Date(Date.now() - 60_000);
      utimesSync(lock, old, old);
    };
    stale(); // what receive-pack leaves when SIGKILLed between taking the ref lock and renaming it
    writeFileSync(join(dir, 'd1.json'), delta(1, 'w1'));
    const put = cli(['put', '--transport', 'git', '--url', url, '--clone', join(dir, 'c1'), join(dir, 'd1.json')]);
    expect(put.code, put.err).toBe(0);
    expect(put.err).toMatch(/removed .*refs\/heads\/main\.lock, a lock 6\d s old that a git killed mid-push left in the remote/);
    expect(existsSync(lock)).toBe(false);
    stale();
    const m = cli(['merge', '--transport', 'git', '--url', url, '--dir', store]);
    expect(m.code, m.err).toBe(0);
    expect(m.err).toMatch(/removed .*main\.lock/);
    expect(gitOut(url, 'log', '--format=%s', '-1', 'main').trim()).toBe('merge frame 1');
    // A young lock may be a live push's: not removed (the push is retried until it is stale or gone).
    writeFileSync(lock, '');
    expect(removeStaleRemoteLock(`remote: error: cannot lock ref 'refs/heads/main': Unable to create '${lock}': File exists.`, url)).toBeUndefined();
    expect(existsSync(lock)).toBe(true);
    // Nor is one outside the remote, or on a remote that is not this machine's disk.
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    expect(removeStaleRemoteLock(`Unable to create '${lock}': File exists.`, 'ssh://host/srv/shared.git')).toBeUndefined();
    expect(removeStaleRemoteLock(`Unable to create '${lock}': File exists.`, join(dir, 'elsewhere.git'))).toBeUndefined();
    expect(existsSync(lock)).toBe(true);
    rmSync(lock);
  });

  it('CLI: writers put through their clones, the merger commits one "merge frame N" per merge; history is linear', async () => {
    const dir = join(root, 'cli');
    const url = join(dir, 'shared.git'), store = join(dir, 'merger');
    const init = cli(['transport', 'init', '--transport', 'git', '--url', url, '--dir', store, '--writers', 'w1,w2']);
    expect(init.code, init.err).toBe(0);
    mkdirSync(join(dir, 'in'));
    for (const [f, w] of [[1, 'w1'], [1, 'w2'], [2, 'w1'], [2, 'w2']] as const) writeFileSync(join(dir, 'in', `${f}${w}.json`), delta(f, w));
    const p1 = cli(['put', '--transport', 'git', '--url', url, '--clone', join(dir, 'c1'), join(dir, 'in', '1w1.json'), join(dir, 'in', '2w1.json'), '--json']);
    expect(p1.code, p1.err).toBe(0);
    expect(p1.out.trim().split('\n').map((l) => JSON.parse(l).written)).toEqual([true, true]);
    const p2 = cli(['put', join(dir, 'in', '1w2.json'), join(dir, 'in', '2w2.json'), '--clone', join(dir, 'c2')], undefined);
    expect(p2.code).toBe(1); // fs transport by default: c2 is no store
    const env = { ...process.env, NO_COLOR: '1', FRAMELOG_TRANSPORT: 'git', FRAMELOG_URL: url };
    const p3 = spawnSync(process.execPath, [CLI, 'put', '--clone', join(dir, 'c2'), join(dir, 'in', '1w2.json'), join(dir, 'in', '2w2.json')], { encoding: 'utf8', env });
    expect(p3.status, p3.stderr).toBe(0);
    expect(p3.stdout).toMatch(/put 2 deltas through git/);
    const bad = cli(['put', '--transport', 'git', '--url', url, '--clone', join(dir, 'c1'), '-'], '{"frame":3,"writer":"w1","utc":"2026-05-01T00:00:00Z","counters":{"n":NaN}}\n');
    expect(bad.code).toBe(1); // writer-side validation, as framelog put
    expect(bad.err).toMatch(/stdin:1/);
    const m = cli(['merge', '--transport', 'git', '--url', url, '--dir', store, '--json']);
    expect(m.code, m.err).toBe(0);
    expect(m.out.trim().split('\n').map((l) => JSON.parse(l).frame)).toEqual([1, 2]);
    const subjects = gitOut(url, 'log', '--format=%s', '--reverse', 'main').trim().split('\n');
    expect(subjects[0]).toBe('init store');
    expect(subjects.slice(1, 3).every((s) => s.startsWith('deltas: 2 from '))).toBe(true);
    expect(subjects.slice(3)).toEqual(['merge frame 1', 'merge frame 2']);
    expect(gitOut(url, 'rev-list', '--merges', 'main').trim()).toBe(''); // linear
    // The merger's working tree and the remote agree; nothing is left to commit.
    expect(gitOut(store, 'status', '--porcelain')).toBe('');
    expect(gitOut(store, 'rev-parse', 'HEAD')).toBe(gitOut(url, 'rev-parse', 'main'));
    expect(cli(['verify', '--dir', store]).code).toBe(0);
    expect(cli(['state', '--dir', store]).out).toContain('"n":4');
    const help = cli(['merge', '--help']).out;
    expect(help).toMatch(/--transport/);
    expect(cli(['put', '--transport', 'carrier-pigeon', 'x.json']).err).toMatch(/unknown transport.*fs, git, postgres, redis, nats, kafka/);
    expect(cli(['put', '--transport', 'nats', 'x.json']).err).toMatch(/--transport nats needs --store NAME/);
    expect(cli(['merge', '--transport', 'git']).err).toMatch(/needs --url/);
  });

  it('never commits secrets, locks, the journal index, the intent or temp files', async () => {
    const t = await fresh();
    mkdirSync(join(t.store, '.secrets'), { recursive: true });
    writeFileSync(join(t.store, '.secrets', 'token'), 'very-secret\n');
    const w = await openGitTransport({ url: t.url, dir: join(t.dir, 'w1'), identity: 'w1' });
    await w.put([Buffer.from(delta(1, 'w1'))]);
    writeFileSync(join(t.store, 'inbox', '.half-written.json.123.tmp'), '{');
    const m = await openGitTransport({ url: t.url, dir: t.store, role: 'merger' });
    await runTransportMerger(openStoreContext(t.store), m, { now: () => NOW });
    await m.close();
    const files = gitOut(t.url, 'log', '--all', '--name-only', '--format=').split('\n').filter(Boolean);
    expect(files).toContain('journal/merges.ndjson');
    expect(files).toContain('.gitignore');
    for (const f of files) expect(f).not.toMatch(/^\.secrets\/|merger\.lock|merges\.idx|merge-intent\.json|\/\./);
    expect(existsSync(join(t.store, 'journal', 'merges.idx')) || existsSync(join(t.store, 'journal', 'merge-intent.json'))).toBe(true);
    expect(spawnSync('git', ['check-ignore', '-q', '.gitignore'], { cwd: t.store }).status).toBe(1); // .gitignore does not ignore itself
    expect(spawnSync('git', ['check-ignore', '-q', '.secrets/token'], { cwd: t.store }).status).toBe(0);
  });

  it('bad input arriving through git is quarantined with its reason exactly as on the filesystem', async () => {
    const bad = [
      '{"frame":1,"writer":"w1","utc":"2026-05-01T00:00:00Z","counters":{"n":NaN}}',
      '{"frame":1,"utc":"2026-05-01T00:00:00Z"}',
      '{"frame":1,"writer":"w1","utc":"2026-05-01T00:00:00Z","status":"fallback","set":{}}',
      '{"frame":1,"writer":"w1","utc":"yesterday"}',
      'not json at all',
    ].map((s) => Buffer.from(s));
    const good = [Buffer.from(delta(1, 'w1'))];
    // fs
    const fsDir = join(root, 'bad-fs');
    initStore(fsDir);
    await createFsTransport(fsDir).put([...good, ...bad]);
    await runTransportMerger(openStoreContext(fsDir), createFsTransport(fsDir), { now: () => NOW });
    // git
    const t = await fresh();
    const w = await openGitTransport({ url: t.url, dir: join(t.dir, 'w1'), identity: 'w1' });
    await w.put([...good, ...bad]);
    const m = await openGitTransport({ url: t.url, dir: t.store, role: 'merger' });
    await runTransportMerger(openStoreContext(t.store), m, { now: () => NOW });
    await m.close();
    const whys = (dir: string) => readdirSync(join(dir, 'quarantine')).filter((f) => f.endsWith('.why.json')).map((f) => {
      const { file, why, merge, utc } = JSON.parse(readFileSync(join(dir, 'quarantine', f), 'utf8'));
      return { file, why, merge, utc, bytes: readFileSync(join(dir, 'quarantine', file)).toString() };
    }).sort((a, b) => (a.file < b.file ? -1 : 1));
    expect(whys(t.store)).toHaveLength(5);
    expect(whys(t.store)).toEqual(whys(fsDir));
    const rec = (dir: string) => readLog(openStoreContext(dir)).map((r) => ({ ...r, utc: '', prev: '' }));
    expect(rec(t.store)).toEqual(rec(fsDir));
    // The quarantined files and their reasons are committed with the merge.
    expect(gitOut(t.url, 'show', '--name-only', '--format=%s', 'main')).toMatch(/^merge frame 1[\s\S]*quarantine\/unparsed-/);
  });

  it('a merger killed between the merge record and git commit: the restart commits "merge frame N" before merging anything new', async () => {
    const t = await fresh();
    const w = await openGitTransport({ url: t.url, dir: join(t.dir, 'w1'), identity: 'w1' });
    await w.put([Buffer.from(delta(1, 'w1'))]);
    const m = await openGitTransport({ url: t.url, dir: t.store, role: 'merger' });
    await m.pull();
    // The merge happens on disk, but the process "dies" before its git commit.
    const merger = openMergerOn(openStoreContext(t.store));
    merger.merge({ now: () => NOW });
    merger.close();
    expect(gitOut(t.store, 'status', '--porcelain')).not.toBe('');
    await w.put([Buffer.from(delta(2, 'w1'))]);
    const records = await runTransportMerger(openStoreContext(t.store), m, { now: () => NOW });
    await m.close();
    expect(records.map((r) => r.frame)).toEqual([2]);
    const subjects = gitOut(t.url, 'log', '--format=%s', '--reverse', 'main').trim().split('\n');
    // Merge 1 was committed on restart, then replayed after the writer's newer push (never force-pushed).
    expect(subjects).toEqual(['init store', 'deltas: 1 from w1 (frames 1–1)', 'deltas: 1 from w1 (frames 2–2)', 'merge frame 1', 'merge frame 2']);
    expect(gitOut(t.store, 'status', '--porcelain')).toBe('');
    expect(verifyStore(openStoreContext(t.store)).ok).toBe(true);
  });

  it('a merger killed while its pull was checking out the writers\' files: the torn, untracked copies are never committed, and the delta is applied whole', async () => {
    const t = await fresh();
    const w = await openGitTransport({ url: t.url, dir: join(t.dir, 'w1'), identity: 'w1' });
    await w.put([Buffer.from(delta(1, 'w1'))]);
    // The merger fetched, and `git merge --ff-only` died while writing the file.
    gitOut(t.store, 'fetch', '--quiet', 'origin');
    const incoming = gitOut(t.store, 'diff', '--name-only', 'HEAD', 'origin/main').trim().split('\n').filter((p) => p.startsWith('inbox/'));
    expect(incoming).toHaveLength(1);
    const whole = gitOut(t.store, 'show', `origin/main:${incoming[0]}`);
    writeFileSync(join(t.store, incoming[0]), whole.slice(0, 40));
    // Meanwhile the writer pushed again, so the merger's push will be rejected and it must rebase.
    await w.put([Buffer.from(delta(2, 'w1'))]);
    const m = await openGitTransport({ url: t.url, dir: t.store, role: 'merger' });
    const records = await runTransportMerger(openStoreContext(t.store), m, { now: () => NOW });
    await m.close();
    expect(records.flatMap((r) => r.applied.map((a) => a.frame))).toEqual([1, 2]);
    expect(records.every((r) => r.quarantined.length === 0)).toBe(true);
    const files = gitOut(t.url, 'log', '--name-only', '--format=', 'main').split('\n').filter((f) => f.startsWith('quarantine/'));
    expect(files).toEqual([]);
    expect(gitOut(t.store, 'status', '--porcelain')).toBe('');
    expect(verifyStore(openStoreContext(t.store)).ok).toBe(true);
  });

  it('a merger killed while git held one of its lock files (MERGE_MSG.lock, ref locks): the restart removes them and its rebase goes through', async () => {
    const { t, w, m } = await givenPulled([1]);
    // Merge 1 committed, then the merger "dies" before pushing, while a git it ran held locks.
    mergeWithoutPushing(t.store, m);
    writeFileSync(join(t.store, '.git', 'MERGE_MSG.lock'), '');
    writeFileSync(join(t.store, '.git', 'refs', 'heads', 'main.lock'), '');
    await w.put([Buffer.from(delta(2, 'w1'))]); // the remote moved on: the merger must rebase its merge
    const records = await runTransportMerger(openStoreContext(t.store), m, { now: () => NOW });
    await m.close();
    expect(records.map((r) => r.frame)).toEqual([2]);
    expect(existsSync(join(t.store, '.git', 'MERGE_MSG.lock'))).toBe(false);
    expect(readFileSync(join(t.store, '.git', 'framelog-merger.lock'), 'utf8')).toBe(''); // our own lock (an flock: the file stays), released, was never another process's
    expect(gitOut(t.url, 'log', '--format=%s', 'main').split('\n').filter((s) => s.startsWith('merge frame'))).toEqual(['merge frame 2', 'merge frame 1']);
    expect(verifyStore(openStoreContext(t.store)).ok).toBe(true);
  });

  it('a merger killed mid-rebase, half-way through replaying a merge, whose rebase --abort then fails: the restart returns to its branch; no merge is lost, no delta archived without a record', async () => {
    const { t, w, m } = await givenPulled([1, 2]);
    // Merges 1 and 2 committed, not pushed; meanwhile the writer pushed frame 3.
    mergeWithoutPushing(t.store, m);
    await m.close();
    await w.put([Buffer.from(delta(3, 'w1'))]);
    const g = (...args: string[]) => spawnSync('git', args, { cwd: t.store, encoding: 'utf8' });
    g('fetch', '--quiet', 'origin');
    // The rebase onto it stops after replaying merge 1 (as a SIGKILL would) …
    expect(g('rebase', '--quiet', '--exec', 'false', 'origin/main').status).not.toBe(0);
    // … half-way through merge 2: its archive segment is in the working tree and the inbox files it
    // took are gone, but its record is not …
    g('checkout', 'main', '--', 'archive/merge-000000002.ndjson');
    for (const e of decodeSegment(readFileSync(join(t.store, 'archive', 'merge-000000002.ndjson')), 'segment')) rmSync(join(t.store, 'inbox', e.name), { force: true });
    // … and the rebase's state was cut short, so that --abort fails.
    rmSync(join(t.store, '.git', 'rebase-merge', 'head-name'));
    const m2 = await openGitTransport({ url: t.url, dir: t.store, role: 'merger' });
    const records = await runTransportMerger(openStoreContext(t.store), m2, { now: () => NOW });
    await m2.close();
    expect(records.map((r) => r.frame)).toEqual([3]);
    expect(g('symbolic-ref', 'HEAD').stdout.trim()).toBe('refs/heads/main');
    expect(gitOut(t.url, 'log', '--format=%s', 'main').split('\n').filter((s) => s.startsWith('merge frame'))).toEqual(['merge frame 3', 'merge frame 2', 'merge frame 1']);
    const ctx = openStoreContext(t.store);
    expect(readLog(ctx).flatMap((r) => r.applied.map((a) => a.frame))).toEqual([1, 2, 3]);
    expect(verifyStore(ctx).ok).toBe(true);
  });

  it('uncommitted changes no merge made (a delta moved to the archive without a record, with no merge in flight) are undone on start, not committed: the delta is merged', async () => {
    const { t, m } = await givenPulled([1]);
    await m.close();
    const [name] = readdirSync(join(t.store, 'inbox')).filter((n) => n.startsWith('frame-'));
    // What a half-replayed merge commit leaves: the segment, and the inbox file it took gone.
    writeFileSync(join(t.store, 'archive', 'merge-000000001.ndjson'), encodeSegment([{ name, bytes: readFileSync(join(t.store, 'inbox', name)) }]));
    rmSync(join(t.store, 'inbox', name));
    const m2 = await openGitTransport({ url: t.url, dir: t.store, role: 'merger' });
    const records = await runTransportMerger(openStoreContext(t.store), m2, { now: () => NOW });
    await m2.close();
    expect(records.map((r) => r.applied.map((a) => `${a.frame}/${a.writer}`))).toEqual([['1/w1']]);
    expect(gitOut(t.url, 'log', '--format=%s', 'main').split('\n').filter((x) => /recovery|merge frame/.test(x))).toEqual(['merge frame 1']);
    expect(verifyStore(openStoreContext(t.store)).ok).toBe(true);
  });

  it('a writer killed mid-push sends its deltas again on the next put: applied exactly once', async () => {
    const t = await fresh();
    const hook = join(t.url, 'hooks', 'pre-receive');
    const marker = join(t.dir, 'pushing');
    writeFileSync(hook, `#!/bin/sh\ntouch '${marker}'\nsleep 30\n`);
    chmodSync(hook, 0o755);
    mkdirSync(join(t.dir, 'in'));
    writeFileSync(join(t.dir, 'in', 'd1.json'), delta(1, 'w1'));
    const child = spawn(process.execPath, [CLI, 'put', '--transport', 'git', '--url', t.url, '--clone', join(t.dir, 'w1'), join(t.dir, 'in', 'd1.json')], { detached: true, stdio: 'ignore' });
    for (let i = 0; i < 600 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(marker)).toBe(true);
    process.kill(-child.pid!, 'SIGKILL'); // the writer and its git push, mid-push
    await new Promise((r) => child.on('exit', r));
    rmSync(hook);
    expect(gitOut(t.url, 'log', '--format=%s', 'main').trim()).toBe('init store'); // the push never landed
    // The next put, of another delta, takes the stranded one along.
    writeFileSync(join(t.dir, 'in', 'd2.json'), delta(2, 'w1'));
    const again = cli(['put', '--transport', 'git', '--url', t.url, '--clone', join(t.dir, 'w1'), join(t.dir, 'in', 'd2.json')]);
    expect(again.code, again.err).toBe(0);
    const m = await openGitTransport({ url: t.url, dir: t.store, role: 'merger' });
    const records = await runTransportMerger(openStoreContext(t.store), m, { now: () => NOW });
    await m.close();
    expect(records.flatMap((r) => r.applied.map((a) => a.frame))).toEqual([1, 2]);
    expect(records.flatMap((r) => r.duplicates)).toEqual([]);
    expect(verifyStore(openStoreContext(t.store)).ok).toBe(true);
  });

  it('refuses to run two mergers on one clone, and a writer clone cannot merge', async () => {
    const t = await fresh();
    const m1 = await openGitTransport({ url: t.url, dir: t.store, role: 'merger' });
    const release = await m1.merger!.begin();
    const m2 = await openGitTransport({ url: t.url, dir: t.store, role: 'merger' });
    await expect(m2.merger!.begin()).rejects.toThrow(/in use/);
    release();
    const w = await openGitTransport({ url: t.url, dir: join(t.dir, 'w9') });
    await expect(w.pull()).rejects.toThrow(/writer's clone/);
  });
});
