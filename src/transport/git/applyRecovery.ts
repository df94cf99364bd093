import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { journalIndexPath } from '../../store/history/journalIndex.js';
import { openStoreContext } from '../../store/storeContext.js';
import type { RecoveryAction } from './decideRecovery.js';
import { git, gitTry } from './gitCommand.js';
import type { GitLog } from './gitLog.js';

/** What {@link applyRecovery} works with. */
export interface RecoveryDeps {
  /** The clone's working tree. */
  dir: string;
  /** Where notices go (one line each). */
  log: GitLog;
  /** Commits everything uncommitted, never ignored files (nothing staged: no commit). */
  commit(message: string[]): void;
  /** Pushes the clone's unpushed commits. */
  push(): Promise<void>;
}

/** framelog's folders in a store; `git clean` clears what git does not track in them. */
const STORE_FOLDERS = ['inbox', 'archive', 'quarantine', 'snapshots', 'journal'];

/** Removes what git does not track in framelog's folders (ignored files, such as a merge intent, stay), keeping the folders themselves. */
async function cleanStoreFolders(dir: string): Promise<void> {
  await git(dir, ['clean', '-fdq', '--', ...STORE_FOLDERS]);
  for (const f of STORE_FOLDERS) mkdirSync(join(dir, f), { recursive: true });
}

/**
 * Performs recovery actions in order (see {@link RecoveryAction} for what each runs): an action's
 * notice, when it has one, goes to `deps.log` first. The caller holds the clone's lock. Throws
 * what a git command that must succeed throws; the actions after it are not run.
 */
export async function applyRecovery(actions: readonly RecoveryAction[], deps: RecoveryDeps): Promise<void> {
  for (const a of actions) {
    if (a.notice !== undefined) deps.log(a.notice);
    await perform(a, deps);
  }
}

async function perform(a: RecoveryAction, { dir, commit, push }: RecoveryDeps): Promise<void> {
  switch (a.kind) {
    case 'remove-stale-locks':
      for (const l of a.paths) rmSync(l, { force: true });
      return;
    case 'abort-rebase':
      if ((await gitTry(dir, ['rebase', '--abort'])).code !== 0) await git(dir, ['rebase', '--quit']);
      return;
    case 'reattach-branch':
      // The branch moves only when a rebase finishes, so it still names every merge this clone
      // committed; the half-replayed files in framelog's folders go.
      await git(dir, ['checkout', '--quiet', '--force', a.branch]);
      await cleanStoreFolders(dir);
      return;
    case 'rebuild-index':
      rmSync(join(dir, '.git', 'index'), { force: true });
      await git(dir, ['reset', '--quiet', '--mixed']);
      return;
    case 'drop-interrupted-checkout':
      for (const p of a.paths) rmSync(join(dir, p), { force: true });
      return;
    case 'make-store-folders':
      for (const f of a.folders) mkdirSync(join(dir, f), { recursive: true });
      return;
    case 'drop-stray-changes':
      // What is lost was never committed, and its deltas are still in the inbox there: the next merge makes it again.
      await git(dir, ['checkout', '--quiet', '--force', 'HEAD', '--', '.']);
      await cleanStoreFolders(dir);
      rmSync(journalIndexPath(openStoreContext(dir)), { force: true }); // a cache, rebuilt from the journal
      return;
    case 'observe-again':
      return;
    case 'commit-recovered':
      commit(a.message);
      return;
    case 'push':
      await push();
      return;
    default: {
      const unknown: never = a;
      throw new Error(`unknown recovery action ${JSON.stringify(unknown)}`);
    }
  }
}
