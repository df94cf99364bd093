import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FramelogError } from '../../errors.js';
import type { MergeRecord } from '../../merge/records.js';
import { segmentName } from '../../store/history/archiveSegment.js';
import { acquireMergeLock, type MergeLock } from '../../store/commit/mergeLock.js';
import { openStoreContext } from '../../store/storeContext.js';
import type { Arrival, PutOutcome, Transport } from '../transport.js';
import type { RecoveryDeps } from './applyRecovery.js';
import { git, gitSync, gitTry } from './gitCommand.js';
import { stderrGitLog, type GitLog } from './gitLog.js';
import { mergeMessage } from './mergeMessage.js';
import type { RecoveryMoment } from './observeClone.js';
import { gitSaid, publishSpool, REJECTED, spoolDeltas } from './publishSpool.js';
import { recoverClone } from './recoverClone.js';
import { removeStaleRemoteLock, reportStaleRemoteLock } from './staleRemoteLock.js';
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

  /**
   * Undoes what a killed git or a crash left in the clone (see decideRecovery's table): at `start`
   * (the caller holds the clone's lock), or once the store recovered (merger).
   */
  async function recover(moment: RecoveryMoment): Promise<void> {
    const deps: RecoveryDeps = { dir, log, commit: (message) => void commitAll(message), push };
    await recoverClone({ dir, branch, upstream, role, moment }, deps);
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
      await recover('start');
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

    merger: {
      async begin() {
        mergerOnly('merge');
        mergerLock ??= await takeLock(join(gitDir, 'framelog-merger.lock'), `merger clone ${dir}`, 0);
        await recover('start');
        return () => {
          mergerLock?.release();
          mergerLock = undefined;
        };
      },
      async recovered() {
        await recover('store-recovered');
      },
      committed(record: MergeRecord) {
        commitAll(mergeMessage(record), ['inbox', 'quarantine', 'journal', 'snapshots', segmentName(record.frame)]);
      },
    },

    async pull(): Promise<Arrival[]> {
      mergerOnly('pull');
      await fetch();
      if ((await ahead()) > 0) await rebaseOwn();
      else await git(dir, ['merge', '--quiet', '--ff-only', upstream]);
      return []; // the writers' delta files are now in this working tree's inbox: nothing to land
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
