import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FramelogError } from '../../errors.js';
import type { MergeRecord } from '../../merge/records.js';
import { journalIndexPath } from '../../store/history/journalIndex.js';
import { readLog } from '../../store/history/journalQueries.js';
import { segmentName } from '../../store/history/archiveSegment.js';
import { acquireMergeLock, type MergeLock } from '../../store/commit/mergeLock.js';
import { openStoreContext } from '../../store/storeContext.js';
import type { Arrival, PutOutcome, Transport } from '../transport.js';
import { git, gitSync, gitTry } from './gitCommand.js';
import { stderrGitLog, type GitLog } from './gitLog.js';
import { gitSaid, publishSpool, REJECTED, spoolDeltas } from './publishSpool.js';
import { removeStaleRemoteLock, reportStaleRemoteLock } from './staleRemoteLock.js';
import { parseStatus, strayChanges } from './strayChanges.js';
import { absoluteUrl, currentBranch, ensureClone } from './gitStore.js';

/** Options of {@link openGitTransport}. */
export interface GitTransportOptions {
  /** The shared remote: a bare repository on disk, or any URL the user's git reaches. */
  url: string;
  /** This process's working tree: a writer's clone, or the merger's store. Cloned when missing. */
  dir: string;
  /** Committer name (default: `framelog-writer`, or `framelog-merger` for the merger). */
  identity?: string;
  /** How often `watch` asks the remote for new commits (default 200 ms). */
  pollMs?: number;
  /**
   * `writer` (default): the clone is a spool — only the root files are checked out, new deltas wait
   * in its `inbox/` until pushed. `merger`: the clone is the whole store the merger works in.
   */
  role?: 'writer' | 'merger';
  /** Push attempts before giving up (each rejected one fetches and rebases; default 200). */
  pushAttempts?: number;
  /**
   * Where the transport's notices go, one line each: what recovery undid in the clone (uncommitted
   * changes no merge made), a stale lock removed from the remote. Default: `framelog: git: <notice>`
   * on stderr.
   */
  log?: GitLog;
}

/** The git transport: the fs inbox inside a clone, plus commit, push and pull. */
export interface GitTransport extends Transport {
  readonly dir: string;
  readonly branch: string;
  /** Writer side: commits the inbox files this clone has not committed yet (one commit) and pushes. */
  publish(message?: string): Promise<{ committed: number }>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/**
 * Lock files a killed git leaves behind (`index.lock`, `HEAD.lock`, `MERGE_MSG.lock`, ref locks …):
 * every `*.lock` of the git folder and of its refs, except framelog's own clone locks. Safe to remove
 * only while we hold the clone's own lock (no other framelog process runs git in it).
 */
function staleGitLocks(gitDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      if (e.isDirectory() && dir !== gitDir) walk(join(dir, e.name));
      else if (e.isFile() && e.name.endsWith('.lock') && !e.name.startsWith('framelog-')) out.push(join(dir, e.name));
    }
  };
  walk(gitDir);
  walk(join(gitDir, 'refs'));
  return out;
}

/** Takes a lock file, waiting (up to `waitMs`) while a live process holds it. */
async function takeLock(path: string, what: string, waitMs: number): Promise<MergeLock> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      return acquireMergeLock(path);
    } catch (e) {
      if ((e as { code?: string }).code !== 'locked') throw e;
      if (Date.now() >= until) throw new FramelogError(`${what} is in use by another framelog process (lock ${path})`, 'locked');
      await sleep(20 + Math.random() * 30);
    }
  }
}

/**
 * Opens the git transport on a local clone of `url` (cloned when missing). Writers `put` into the
 * clone's `inbox/` under identity + hash names (git never sees two files compete for a name),
 * commit and push, retrying a rejected push by fetching and rebasing only their own unpushed
 * commits. The merger pulls, commits "merge frame N" after each merge, and pushes. Never a force
 * push, never `--autostash`, never a commit of anything `.gitignore` keeps out.
 */
export async function openGitTransport(o: GitTransportOptions): Promise<GitTransport> {
  const dir = o.dir;
  const url = absoluteUrl(o.url);
  const role = o.role ?? 'writer';
  const identity = o.identity ?? (role === 'merger' ? 'framelog-merger' : 'framelog-writer');
  await ensureClone({ url, dir, identity, sparse: role === 'writer' });
  const branch = await currentBranch(dir);
  const upstream = `origin/${branch}`;
  const gitDir = join(dir, '.git');
  const log = o.log ?? stderrGitLog;
  let mergerLock: MergeLock | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  /** Undoes what a killed git left behind: a rebase in progress and stale lock files. Caller holds the clone's lock. */
  async function repairClone(): Promise<void> {
    for (const l of staleGitLocks(gitDir)) rmSync(l, { force: true });
    if (existsSync(join(gitDir, 'rebase-merge')) || existsSync(join(gitDir, 'rebase-apply'))) {
      const r = await gitTry(dir, ['rebase', '--abort']);
      if (r.code !== 0) await git(dir, ['rebase', '--quit']);
    }
    if (role === 'merger') await reattachBranch();
    // The index is not fsynced (it is rebuilt from HEAD at will): a torn one is rebuilt, the working tree untouched.
    if (role === 'merger' && (await gitTry(dir, ['status', '--porcelain', '-z'])).code !== 0) {
      rmSync(join(gitDir, 'index'), { force: true });
      await git(dir, ['reset', '--quiet', '--mixed']);
    }
    if (role === 'merger') await dropInterruptedCheckout();
    if (role === 'merger') await dropStrayChanges();
  }

  /**
   * When no merge is in flight (no intent: the core's recovery owns that case), uncommitted
   * changes no merge can have made (see {@link strayChanges}) are a git rewrite cut short: the
   * working tree goes back to the branch's commit (what is lost was never committed, and its
   * deltas are still in the inbox there, so the next merge makes it again) and the journal
   * index, a cache, is rebuilt. Said through the logger, one line.
   */
  async function dropStrayChanges(): Promise<void> {
    const ctx = openStoreContext(dir);
    if (existsSync(ctx.layout.intent)) return;
    let lastFrame: number | undefined;
    try {
      lastFrame = readLog(ctx).at(-1)?.frame ?? 0;
    } catch (e) {
      if ((e as { code?: string }).code !== 'corrupt-journal') throw e;
    }
    const stray = lastFrame === undefined
      ? ['journal/merges.ndjson: not a journal framelog wrote']
      : strayChanges(parseStatus(await git(dir, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--', 'inbox', 'archive', 'quarantine'])), lastFrame);
    if (stray.length === 0) return;
    log(`${dir}: ${stray.length} uncommitted change${stray.length === 1 ? '' : 's'} no merge made (a git killed mid-rewrite; first: ${stray[0]}): back to the last commit`);
    await git(dir, ['checkout', '--quiet', '--force', 'HEAD', '--', '.']);
    await cleanStoreFolders();
    rmSync(journalIndexPath(ctx), { force: true });
  }

  /**
   * A rebase killed part way, whose `--abort` then failed (its state cut short), leaves HEAD
   * detached on the commits it had replayed so far and a working tree half-way through the next
   * one: committing that ("recovery") and pushing it would drop the merge commits not replayed yet
   * while keeping some of their archive moves — deltas archived with no record. The branch itself
   * is only moved when a rebase finishes, so it still names every merge this clone committed:
   * check it out again, and clear the half-replayed files in framelog's folders (ignored files,
   * such as a merge intent, stay).
   */
  async function reattachBranch(): Promise<void> {
    const head = await gitTry(dir, ['symbolic-ref', '-q', 'HEAD']);
    if (head.code === 0 && head.stdout.trim() === `refs/heads/${branch}`) return;
    if ((await gitTry(dir, ['rev-parse', '--verify', '-q', `refs/heads/${branch}`])).code !== 0) return; // a clone with no commit yet
    await git(dir, ['checkout', '--quiet', '--force', branch]);
    await cleanStoreFolders();
  }

  /** Removes what git does not track in framelog's folders (ignored files stay), keeping the folders themselves. */
  async function cleanStoreFolders(): Promise<void> {
    const folders = ['inbox', 'archive', 'quarantine', 'snapshots', 'journal'];
    await git(dir, ['clean', '-fdq', '--', ...folders]);
    for (const f of folders) mkdirSync(join(dir, f), { recursive: true });
  }

  /**
   * A merger killed while `git merge --ff-only` (or a rebase) was writing the writers' new inbox
   * files leaves some of them untracked in the working tree, possibly empty or cut short. They are
   * the remote's files, and the next pull brings them back whole: remove the untracked inbox files
   * that the remote branch holds, so a recovery commit never adds a torn copy (which would
   * conflict with the writers' commit when rebased). Untracked files the remote does not hold stay.
   */
  async function dropInterruptedCheckout(): Promise<void> {
    const untracked = (await git(dir, ['ls-files', '--others', '--exclude-standard', '-z', '--', 'inbox'])).split('\0').filter(Boolean);
    if (untracked.length === 0) return;
    const r = await gitTry(dir, ['ls-tree', '-z', '--name-only', upstream, '--', ...untracked]);
    if (r.code !== 0) return; // no remote branch yet: nothing came from it
    for (const path of r.stdout.split('\0').filter(Boolean)) rmSync(join(dir, path), { force: true });
  }

  const ahead = async (): Promise<number> => {
    const r = await gitTry(dir, ['rev-list', '--count', `${upstream}..HEAD`]);
    return r.code === 0 ? Number(r.stdout.trim()) : 1;
  };

  /** Replays this clone's unpushed commits onto the remote's branch; they touch files nobody else does. */
  async function rebaseOwn(): Promise<void> {
    const r = await gitTry(dir, ['-c', 'merge.directoryRenames=false', '-c', 'merge.renames=false', 'rebase', '--quiet', '--no-autostash', '--strategy-option=no-renames', upstream]);
    if (r.code !== 0) {
      const conflicted = (await gitTry(dir, ['diff', '--name-status', '--diff-filter=U'])).stdout.trim().split('\n').filter(Boolean).slice(0, 3).join(', ');
      // What git said besides "Could not apply": the conflict, or the untracked files in the way.
      const said = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter((l) => l && !/^(hint:|Could not apply)/.test(l)).slice(0, 4).join(' | ');
      await gitTry(dir, ['rebase', '--abort']);
      throw new FramelogError(`git rebase onto ${upstream} (in ${dir}) failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}${conflicted ? ` (conflicts: ${conflicted})` : ''}${said ? ` (git: ${said})` : ''} — this clone's commits touch files others changed; framelog files never do (check for manual edits)`, 'git-conflict');
    }
  }

  async function fetch(): Promise<void> {
    await git(dir, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-auto-maintenance', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`]);
  }

  /** Pushes this clone's unpushed commits; a rejected push fetches, rebases its own commits and tries again. */
  async function push(): Promise<void> {
    const attempts = o.pushAttempts ?? 200;
    let last = '';
    for (let i = 0; i < attempts; i++) {
      if ((await ahead()) === 0) return;
      const r = await gitTry(dir, ['push', '--quiet', '--no-verify', 'origin', `HEAD:refs/heads/${branch}`]);
      if (r.code === 0) return;
      last = gitSaid(r.stderr || r.stdout);
      if (reportStaleRemoteLock(removeStaleRemoteLock(r.stderr + r.stdout, url), log)) continue;
      if (REJECTED.test(r.stderr + r.stdout)) {
        await fetch();
        await rebaseOwn();
        if (i < 3) continue; // the usual case: someone pushed first; try again at once
      }
      await sleep(Math.min(1000, 10 * 2 ** Math.min(i, 6)) * (0.5 + Math.random()));
    }
    throw new FramelogError(`git push to ${url} failed ${attempts} times (last: ${last}); the merge commits stay in ${dir} and go with the next merge`, 'git-push-failed');
  }

  /** Commits what a merge changed (`paths`: the folders a merge writes; default: the whole tree, never ignored files). */
  function commitAll(message: string[], paths?: string[]): boolean {
    gitSync(dir, ['add', '--all', '--', ...(paths ?? ['.']).filter((p) => existsSync(join(dir, p)))]);
    const staged = gitSync(dir, ['diff', '--cached', '--name-only', '-z']);
    if (!staged) return false;
    gitSync(dir, ['commit', '--quiet', '--no-verify', ...message.flatMap((m) => ['-m', m])]);
    return true;
  }

  const mergerOnly = (what: string): void => {
    if (role !== 'merger') throw new FramelogError(`${dir}: a writer's clone cannot ${what} (open the git transport with role merger on the merger's store)`, 'bad-role');
  };

  async function publish(message?: string): Promise<{ committed: number }> {
    if (role !== 'writer') throw new FramelogError(`${dir}: the merger's store does not put deltas (use a writer's clone)`, 'bad-role');
    const lock = await takeLock(join(gitDir, 'framelog-writer.lock'), `clone ${dir}`, 120_000);
    try {
      await repairClone();
      const r = await publishSpool({ dir, gitDir, branch, identity, url, fetch, pushAttempts: o.pushAttempts ?? 200, log }, message);
      return { committed: r.committed };
    } finally {
      lock.release();
    }
  }

  const transport: GitTransport = {
    name: 'git',
    durability: { onDiskWhenAcknowledged: true, summary: 'a put is acknowledged once git pushed the commit holding it to the remote (the remote\'s git wrote it to disk before answering)' },
    dir,
    branch,
    publish: (message) => serial(() => publish(message)),
    put: (deltas) => serial(async () => {
      const ctx = openStoreContext(dir);
      const landed = spoolDeltas(ctx, deltas);
      const out: PutOutcome[] = landed.map((l) => ({ id: l.name, duplicate: !l.written }));
      await publish();
      return out;
    }),

    async prepareMerger() {
      mergerOnly('merge');
      mergerLock ??= await takeLock(join(gitDir, 'framelog-merger.lock'), `merger clone ${dir}`, 0);
      await repairClone();
      return () => {
        mergerLock?.release();
        mergerLock = undefined;
      };
    },

    async recoverMerger() {
      const dirty = (await git(dir, ['status', '--porcelain', '-z'])).length > 0;
      if (dirty) {
        const ctx = openStoreContext(dir);
        const records = readLog(ctx);
        const headText = await gitTry(dir, ['show', `HEAD:journal/merges.ndjson`]);
        const committed = headText.code === 0 ? headText.stdout.split('\n').filter(Boolean).length : 0;
        const fresh = records.slice(committed);
        if (fresh.length === 1) commitAll(mergeMessage(fresh[0]));
        else if (fresh.length > 1) commitAll([`merge frames ${fresh[0].frame}–${fresh.at(-1)!.frame} (recovered after a crash)`]);
        else commitAll(['quarantine and recovery: changes a crashed merger left uncommitted']);
      }
      await push();
    },

    async pull(): Promise<Arrival[]> {
      mergerOnly('pull');
      await fetch();
      if ((await ahead()) > 0) await rebaseOwn();
      else await git(dir, ['merge', '--quiet', '--ff-only', upstream]);
      return []; // the writers' delta files are now in this working tree's inbox: nothing to land
    },

    commitMerge(record: MergeRecord) {
      commitAll(mergeMessage(record), ['inbox', 'quarantine', 'journal', 'snapshots', segmentName(record.frame)]);
    },

    async ack() {
      if ((await git(dir, ['status', '--porcelain', '-z'])).length > 0) {
        commitAll(['quarantine: files no merge listed']);
      }
      await push();
    },

    watch(onArrival, signal) {
      let seen = '';
      const tick = async (): Promise<void> => {
        while (!signal.aborted) {
          const r = await gitTry(dir, ['ls-remote', 'origin', `refs/heads/${branch}`]).catch(() => undefined);
          const sha = r?.stdout.split('\t')[0] ?? '';
          if (sha && sha !== seen) {
            if (seen) onArrival();
            seen = sha;
          }
          await sleep(o.pollMs ?? 200);
        }
      };
      void tick();
    },

    async close() {
      await queue;
      mergerLock?.release();
      mergerLock = undefined;
    },
  };
  return transport;
}

/** The commit message of merge N: its subject, then what it did, for `git log`. */
function mergeMessage(r: MergeRecord): string[] {
  return [
    `merge frame ${r.frame}`,
    `applied ${r.applied.length}, late ${r.late.length}, duplicates ${r.duplicates.length}, fallback ${r.fallback.length}, missing ${r.missing.length}, quarantined ${r.quarantined.length}, conflicts ${r.conflicts}\n${r.state_sha256 ? `state_sha256 ${r.state_sha256}` : 'no checkpoint'}`,
  ];
}
