import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MergeRecord } from '../../merge/records.js';
import { readJournal } from '../../store/history/journalFile.js';
import { storeLayout } from '../../store/layout.js';
import { git, gitTry } from './gitCommand.js';
import { parseStatus, type StatusEntry } from './strayChanges.js';

/** A writer's clone (a spool of deltas) or the merger's store. */
export type CloneRole = 'writer' | 'merger';

/**
 * When a clone is looked at: `start` — before a writer publishes, or before the merger starts
 * (it holds the clone's lock; the store's own recovery has not run); `store-recovered` — the
 * merger's store, once the core finished or undid a half merge.
 */
export type RecoveryMoment = 'start' | 'store-recovered';

/** Which clone to look at, and when. */
export interface CloneToObserve {
  /** The working tree. */
  dir: string;
  /** The branch the clone works on. */
  branch: string;
  /** The remote's branch as this clone last fetched it (`origin/<branch>`). */
  upstream: string;
  role: CloneRole;
  moment: RecoveryMoment;
}

/** What the merger's working tree holds (read once the git folder, HEAD and the index need nothing). */
export interface TreeObservation {
  /** Store folders that do not exist: git removes a folder once a checkout, a rebase or its abort took its last file. */
  missingFolders: string[];
  /** Untracked files of `inbox/` that the remote branch holds: a checkout killed while writing them. */
  interruptedCheckout: string[];
  /** A merge intent exists: a merge is in flight, and the store's own recovery owns the tree. */
  mergeInFlight: boolean;
  /**
   * The frame of the journal's last record (0 for an empty journal), or `corrupt` when
   * `journal/merges.ndjson` is not a journal framelog wrote. Not read while a merge is in flight.
   */
  lastRecordFrame?: number | 'corrupt';
  /**
   * `git status` of `inbox/`, `archive/` and `quarantine/` (untracked files listed one by one, no
   * rename detection). Read only when no merge is in flight and the journal could be read.
   */
  storeStatus?: StatusEntry[];
}

/** A clone at `start`. A field left out was not read: an earlier finding's remedy changes it. */
export interface StartObservation {
  moment: 'start';
  dir: string;
  branch: string;
  /** Lock files of the git folder and its refs a killed git left (framelog's own clone locks excluded). */
  staleLocks: string[];
  /** `.git/rebase-merge` or `.git/rebase-apply` exists. */
  rebaseInProgress: boolean;
  /** Merger only, read when the git folder needs nothing: whether HEAD is the branch, else whether the branch has a commit. */
  head?: { onBranch: true } | { onBranch: false; branchHasCommit: boolean };
  /** Merger only, read when HEAD needs nothing: `git status` reads the index (it is not fsynced, so it can be torn). */
  indexReadable?: boolean;
  /** Merger only, read when the index is readable. */
  tree?: TreeObservation;
}

/** The merger's store once the core recovered it. */
export interface StoreRecoveredObservation {
  moment: 'store-recovered';
  dir: string;
  /** `git status` lists anything (tracked changes, or untracked files not ignored). */
  uncommittedChanges: boolean;
  /** Store folders that do not exist. Read only when there are uncommitted changes. */
  missingFolders?: string[];
  /**
   * The journal's records past the copy of `journal/merges.ndjson` in HEAD (its line count), in
   * order. Read only when there are uncommitted changes.
   */
  uncommittedRecords?: MergeRecord[];
}

/** What {@link observeClone} found. */
export type CloneObservation = StartObservation | StoreRecoveredObservation;

/** The folders of a store (PROTOCOL §5), which framelog expects to exist and git does not keep when empty. */
const STORE_FOLDERS = ['inbox', 'archive', 'quarantine', 'journal', 'snapshots', 'views', 'streams'];
const missingFolders = (dir: string): string[] => STORE_FOLDERS.filter((f) => !existsSync(join(dir, f)));

/**
 * Lock files a killed git leaves behind (`index.lock`, `HEAD.lock`, `MERGE_MSG.lock`, ref locks …):
 * every `*.lock` of the git folder and of its refs, except framelog's own clone locks. Safe to remove
 * only while we hold the clone's own lock (no other framelog process runs git in it).
 */
export function staleGitLocks(gitDir: string): string[] {
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

/**
 * Reads a clone for {@link decideRecovery}: the git folder first (stale locks, a rebase in
 * progress), then — merger only — HEAD, the index and the working tree, each stage only when the
 * ones before it need no remedy (a remedy there changes what the next stage would read, so the
 * caller acts and observes again). A writer's clone is read no further than its git folder.
 * Changes nothing: no file is written or removed (`git status` may refresh the index's stat cache,
 * as any git read does). Git commands run, in order: `symbolic-ref -q HEAD` (and `rev-parse
 * --verify -q refs/heads/<branch>` when HEAD is elsewhere), `status --porcelain -z`, `ls-files
 * --others` of `inbox/` (and `ls-tree <upstream>` of the untracked ones), which store folders
 * exist, and `status` of the
 * store's folders; at `store-recovered`, `status --porcelain -z` (and `show HEAD:journal/merges.ndjson`).
 */
export async function observeClone(c: CloneToObserve): Promise<CloneObservation> {
  if (c.moment === 'store-recovered') return observeRecoveredStore(c.dir);
  const gitDir = join(c.dir, '.git');
  const o: StartObservation = {
    moment: 'start',
    dir: c.dir,
    branch: c.branch,
    staleLocks: staleGitLocks(gitDir),
    rebaseInProgress: existsSync(join(gitDir, 'rebase-merge')) || existsSync(join(gitDir, 'rebase-apply')),
  };
  if (c.role !== 'merger' || o.staleLocks.length > 0 || o.rebaseInProgress) return o;
  const head = await gitTry(c.dir, ['symbolic-ref', '-q', 'HEAD']);
  if (head.code === 0 && head.stdout.trim() === `refs/heads/${c.branch}`) o.head = { onBranch: true };
  else {
    // No commit on the branch yet (a fresh clone of an empty remote): nothing to go back to.
    const branchHasCommit = (await gitTry(c.dir, ['rev-parse', '--verify', '-q', `refs/heads/${c.branch}`])).code === 0;
    o.head = { onBranch: false, branchHasCommit };
    if (branchHasCommit) return o;
  }
  o.indexReadable = (await gitTry(c.dir, ['status', '--porcelain', '-z'])).code === 0;
  if (!o.indexReadable) return o;
  o.tree = await observeTree(c.dir, c.upstream);
  return o;
}

/** The merger's working tree: see {@link TreeObservation}. */
async function observeTree(dir: string, upstream: string): Promise<TreeObservation> {
  const untracked = (await git(dir, ['ls-files', '--others', '--exclude-standard', '-z', '--', 'inbox'])).split('\0').filter(Boolean);
  let interruptedCheckout: string[] = [];
  if (untracked.length > 0) {
    const r = await gitTry(dir, ['ls-tree', '-z', '--name-only', upstream, '--', ...untracked]);
    if (r.code === 0) interruptedCheckout = r.stdout.split('\0').filter(Boolean); // else: no remote branch yet, nothing came from it
  }
  const missing = missingFolders(dir);
  const layout = storeLayout(dir);
  if (existsSync(layout.intent)) return { missingFolders: missing, interruptedCheckout, mergeInFlight: true };
  let lastRecordFrame: number | 'corrupt';
  try {
    lastRecordFrame = readJournal<MergeRecord>(layout.merges, 'journal/merges.ndjson').at(-1)?.value.frame ?? 0;
  } catch (e) {
    if ((e as { code?: string }).code !== 'corrupt-journal') throw e;
    return { missingFolders: missing, interruptedCheckout, mergeInFlight: false, lastRecordFrame: 'corrupt' };
  }
  const storeStatus = parseStatus(await git(dir, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--', 'inbox', 'archive', 'quarantine']));
  return { missingFolders: missing, interruptedCheckout, mergeInFlight: false, lastRecordFrame, storeStatus };
}

/** The merger's store once the core recovered it: see {@link StoreRecoveredObservation}. */
async function observeRecoveredStore(dir: string): Promise<StoreRecoveredObservation> {
  const uncommittedChanges = (await git(dir, ['status', '--porcelain', '-z'])).length > 0;
  if (!uncommittedChanges) return { moment: 'store-recovered', dir, uncommittedChanges };
  const missing = missingFolders(dir);
  const records = readJournal<MergeRecord>(storeLayout(dir).merges, 'journal/merges.ndjson').map((l) => l.value);
  const headText = await gitTry(dir, ['show', 'HEAD:journal/merges.ndjson']);
  const committed = headText.code === 0 ? headText.stdout.split('\n').filter(Boolean).length : 0;
  return { moment: 'store-recovered', dir, uncommittedChanges, missingFolders: missing, uncommittedRecords: records.slice(committed) };
}
