import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FramelogError } from '../../errors.js';
import { fsyncDir } from '../../store/durableFs.js';
import { listInbox } from '../../store/inbox.js';
import { storeLayout } from '../../store/layout.js';
import { git, gitTry } from './gitCommand.js';

/** Where a writer's clone publishes to. */
export interface SpoolTarget {
  dir: string;
  gitDir: string;
  branch: string;
  identity: string;
  /** Fetches the remote branch into `refs/remotes/origin/<branch>`. */
  fetch(): Promise<void>;
  pushAttempts: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const REJECTED = /\[rejected\]|\(fetch first\)|non-fast-forward|\(stale info\)|failed to update ref|cannot lock ref|Updates were rejected/;

/**
 * Publishes a writer's spool: every delta file waiting in the clone's `inbox/` goes into one
 * commit on top of the remote branch ("deltas: N from W"), which is pushed. A rejected push
 * (someone pushed first) fetches and re-creates the commit on the new tip — a rebase of the
 * writer's own new commit only, done with plumbing so no working tree is checked out and no
 * canonical file is ever touched. Files leave the spool only once the push is accepted, so a
 * writer killed mid-push sends them again (the merger sees an identical copy: exactly once).
 * A file already pending upstream under the same name changes nothing (the same identity and hash).
 */
export async function publishSpool(t: SpoolTarget, message?: string): Promise<{ committed: number; pushed: boolean }> {
  const layout = storeLayout(t.dir);
  const names = listInbox(layout);
  if (names.length === 0) return { committed: 0, pushed: false };
  const paths = names.map((n) => `inbox/${n}`);
  const blobs = (await git(t.dir, ['hash-object', '-w', '--stdin-paths', '--no-filters'], { input: paths.join('\n') + '\n' })).trim().split('\n');
  if (blobs.length !== paths.length) throw new FramelogError(`git hash-object (in ${t.dir}): expected ${paths.length} blobs, got ${blobs.length}`, 'git-failed');
  const indexInfo = paths.map((p, i) => `100644 ${blobs[i]}\t${p}`).join('\n') + '\n';
  const indexEnv = { GIT_INDEX_FILE: join(t.gitDir, 'framelog-spool.index') };
  const upstream = `refs/remotes/origin/${t.branch}`;
  const frames = names.map((n) => /^frame-(\d+)\./.exec(n)?.[1]).filter(Boolean).map(Number);
  const subject = message ?? `deltas: ${names.length} from ${t.identity}${frames.length ? ` (frames ${Math.min(...frames)}–${Math.max(...frames)})` : ''}`;
  await t.fetch();
  let last = '';
  for (let attempt = 0; attempt < t.pushAttempts; attempt++) {
    const base = (await git(t.dir, ['rev-parse', '--verify', upstream])).trim();
    await git(t.dir, ['read-tree', base], { env: indexEnv });
    await git(t.dir, ['update-index', '--add', '--index-info'], { input: indexInfo, env: indexEnv });
    const tree = (await git(t.dir, ['write-tree', '--missing-ok'], { env: indexEnv })).trim();
    const baseTree = (await git(t.dir, ['rev-parse', `${base}^{tree}`])).trim();
    if (tree === baseTree) {
      clearSpool(layout.inbox, names); // every file is already pending upstream
      return { committed: 0, pushed: false };
    }
    const commit = (await git(t.dir, ['commit-tree', tree, '-p', base, '-m', subject])).trim();
    const r = await gitTry(t.dir, ['push', '--quiet', '--no-verify', '--no-thin', 'origin', `${commit}:refs/heads/${t.branch}`]);
    if (r.code === 0) {
      await gitTry(t.dir, ['update-ref', upstream, commit]);
      clearSpool(layout.inbox, names);
      return { committed: names.length, pushed: true };
    }
    last = (r.stderr || r.stdout).trim().split('\n').pop() ?? '';
    if (!REJECTED.test(r.stderr + r.stdout)) await sleep(Math.min(1000, 10 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
    else if (attempt > 2) await sleep(Math.random() * 20 * Math.min(attempt, 10));
    await t.fetch();
  }
  throw new FramelogError(`git push to origin failed ${t.pushAttempts} times (last: ${last}); the deltas stay in ${layout.inbox} and go with the next put`, 'git-push-failed');
}

function clearSpool(inbox: string, names: string[]): void {
  for (const n of names) {
    try { unlinkSync(join(inbox, n)); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
  }
  fsyncDir(inbox);
}
