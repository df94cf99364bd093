import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Plan } from '../../delta/plan.js';
import { FramelogError } from '../../errors.js';
import { initStore } from '../../store/storeContext.js';
import { git, gitTry } from './gitCommand.js';

/**
 * What a store that is a git working tree never commits: the merger's lock and intent, the journal
 * index (a cache), the server's secrets, and temp files (names starting with `.`) in `inbox/`.
 * Anchored patterns: this file itself is not ignored.
 */
export const STORE_GITIGNORE = [
  '# framelog: never committed (locks, caches, temp files, secrets)',
  '/merger.lock',
  '/merger.lock.*',
  '/.secrets/',
  '/journal/merges.idx',
  '/journal/merge-intent.json',
  '/inbox/.*',
  '/archive/**/.*',
  '/quarantine/.*',
  '/snapshots/.*',
  '/journal/.*',
  '/.framelog-demo',
  '',
].join('\n');

/** Options of a local clone of a git-transported store. */
export interface CloneOptions {
  /** A writer's clone checks out only the root files (the plan): its `inbox/` is a spool of deltas not pushed yet. */
  sparse?: boolean;
  /** The remote: a bare repository on disk or any URL the user's git reaches. */
  url: string;
  /** The local working tree (a writer's clone, or the merger's store). */
  dir: string;
  /** Committer name for this clone (a writer's name, or `framelog-merger`). */
  identity: string;
}

/** True when `url` names a folder on this machine (not `host:path` or `scheme://`). */
export function isLocalPath(url: string): boolean {
  return url.startsWith('file://') ? true : !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) && !/^[^/]+:/.test(url);
}

const localPathOf = (url: string): string => (url.startsWith('file://') ? url.slice('file://'.length) : url);

/** Settings every framelog clone gets: who commits, durable object and ref writes, and no surprises. */
async function configureClone(dir: string, identity: string, role: 'writer' | 'merger'): Promise<void> {
  const settings: Array<[string, string]> = [
    ['framelog.role', role],
    ['user.name', identity],
    ['user.email', `${identity}@${hostname()}.framelog.invalid`],
    // Objects and refs are fsynced; the index is not (a torn one is rebuilt from HEAD).
    ['core.fsync', 'committed'],
    // One fsync per batch of loose objects rather than one per object.
    ['core.fsyncMethod', 'batch'],
    ['rebase.autoStash', 'false'],
    ['pull.rebase', 'false'],
    ['commit.gpgSign', 'false'],
    ['core.autocrlf', 'false'],
    ['merge.renames', 'false'],
    // Moving every inbox file to the archive looks like a directory rename to git; it is not one.
    ['merge.directoryRenames', 'false'],
    ['gc.autoDetach', 'false'],
    ['feature.manyFiles', 'true'],
  ];
  for (const [k, v] of settings) await git(dir, ['config', k, v]);
  await git(dir, ['config', 'framelog.configured', '1']);
}

/** The branch the clone works on (the remote's default branch, or `main` for an empty remote). */
export async function currentBranch(dir: string): Promise<string> {
  const r = await gitTry(dir, ['symbolic-ref', '--short', 'HEAD']);
  if (r.code === 0) return r.stdout.trim();
  // HEAD detached: a rebase in progress names the branch it will return to.
  for (const state of ['rebase-merge', 'rebase-apply']) {
    try {
      const name = readFileSync(join(dir, '.git', state, 'head-name'), 'utf8').trim();
      if (name.startsWith('refs/heads/')) return name.slice('refs/heads/'.length);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  // Else the clone's remote default branch, as `git clone` checked it out.
  const remote = await gitTry(dir, ['symbolic-ref', '--short', 'refs/remotes/origin/HEAD']);
  return remote.code === 0 ? remote.stdout.trim().replace(/^origin\//, '') : 'main';
}

/**
 * Makes sure `dir` is a clone of `url` holding a framelog store; clones it when `dir` is missing
 * or empty. Refuses a folder that is something else, naming the fix.
 */
export async function ensureClone(o: CloneOptions): Promise<void> {
  const role = o.sparse ? 'writer' : 'merger';
  if (existsSync(join(o.dir, '.git'))) {
    const has = (await gitTry(o.dir, ['config', '--get', 'framelog.role'])).stdout.trim();
    if (has && has !== role) {
      throw new FramelogError(has === 'merger'
        ? `${o.dir}: is the merger's store; a writer puts from its own clone (give --clone DIR)`
        : `${o.dir}: is a writer's clone; the merger needs its own working tree (give --dir DIR)`, 'bad-role');
    }
    if (!has) await configureClone(o.dir, o.identity, role);
    return;
  }
  if (existsSync(o.dir) && readdirSync(o.dir).length > 0) {
    throw new FramelogError(`${o.dir}: exists and is not a git clone (give an empty or missing folder to clone ${o.url} into)`, 'exists');
  }
  mkdirSync(o.dir, { recursive: true });
  const url = isLocalPath(o.url) ? resolve(localPathOf(o.url)) : o.url;
  // A writer needs the remote's trees to commit on top of, never other writers' deltas: no blobs.
  await git(o.dir, ['clone', '--quiet', '--no-hardlinks', ...(o.sparse ? ['--no-checkout', '--filter=blob:none'] : []), url, '.']);
  await configureClone(o.dir, o.identity, role);
  if (o.sparse) {
    await git(o.dir, ['sparse-checkout', 'set', '--cone']);
    await git(o.dir, ['checkout', '--quiet']);
  }
  if (!existsSync(join(o.dir, 'framelog.json'))) {
    throw new FramelogError(`${o.url}: holds no framelog store (run: framelog transport init --transport git --url ${o.url})`, 'no-store');
  }
}

/**
 * Creates a git-transported store: a bare repository at `url` when it is a local path that does
 * not exist yet (fast-forward only, every ref update logged), then a store committed and pushed
 * from the working tree `dir` ("init store"). `dir` becomes the merger's store.
 */
export async function initGitStore(o: { url: string; dir: string; plan?: Partial<Plan> }): Promise<void> {
  if (isLocalPath(o.url)) {
    const bare = localPathOf(o.url);
    if (!existsSync(bare) || readdirSync(bare).length === 0) {
      mkdirSync(bare, { recursive: true });
      await git(bare, ['init', '--quiet', '--bare', '--initial-branch=main']);
      await git(bare, ['config', 'receive.denyNonFastForwards', 'true']);
      await git(bare, ['config', 'receive.denyDeletes', 'true']);
      await git(bare, ['config', 'core.logAllRefUpdates', 'always']);
      await git(bare, ['config', 'core.fsync', 'committed,index']);
      await git(bare, ['config', 'core.fsyncMethod', 'batch']);
      await git(bare, ['config', 'uploadpack.allowFilter', 'true']);
      await git(bare, ['config', 'receive.autogc', 'false']);
    }
  }
  if (existsSync(o.dir) && readdirSync(o.dir).length > 0) throw new FramelogError(`${o.dir}: exists and is not empty (give a new folder for the merger's working tree)`, 'exists');
  mkdirSync(o.dir, { recursive: true });
  const url = isLocalPath(o.url) ? resolve(localPathOf(o.url)) : o.url;
  await git(o.dir, ['clone', '--quiet', '--no-hardlinks', url, '.']);
  await configureClone(o.dir, 'framelog-merger', 'merger');
  if (existsSync(join(o.dir, 'framelog.json'))) throw new FramelogError(`${o.url}: already holds a framelog store (clone it with framelog merge --transport git --url ${o.url} --dir D)`, 'exists');
  initStore(o.dir, o.plan ?? {});
  writeFileSync(join(o.dir, '.gitignore'), STORE_GITIGNORE);
  const branch = await currentBranch(o.dir);
  await git(o.dir, ['add', '--all']);
  await git(o.dir, ['commit', '--quiet', '--no-verify', '-m', 'init store']);
  await git(o.dir, ['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
  await git(o.dir, ['branch', '--quiet', `--set-upstream-to=origin/${branch}`]).catch(() => undefined);
}

/** True when the store's `.gitignore` keeps the secrets folder out of commits. */
export function ignoresSecrets(dir: string): boolean {
  try {
    return readFileSync(join(dir, '.gitignore'), 'utf8').split('\n').includes('/.secrets/');
  } catch {
    return false;
  }
}

export const absoluteUrl = (url: string): string => (isLocalPath(url) && !isAbsolute(localPathOf(url)) ? resolve(localPathOf(url)) : url);
