import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FramelogError } from '../../errors.js';
import { sha256Hex } from '../../delta/contentHash.js';
import { inboxName } from '../../delta/identity.js';
import { parseDelta } from '../../delta/validateDelta.js';
import { tempNameFor } from '../../durable/durableFs.js';
import type { StoreContext } from '../../store/storeContext.js';
import { listInbox } from '../../store/inbox/inbox.js';
import { storeLayout } from '../../store/layout.js';
import { git, gitTry } from './gitCommand.js';
import type { GitLog } from './gitLog.js';
import { removeStaleRemoteLock, reportStaleRemoteLock } from './staleRemoteLock.js';

/** Where a writer's clone publishes to. */
export interface SpoolTarget {
  dir: string;
  gitDir: string;
  branch: string;
  identity: string;
  /** The remote's URL (a lock a killed push left in a remote on this machine is removed). */
  url: string;
  /** Fetches the remote branch into `refs/remotes/origin/<branch>`. */
  fetch(): Promise<void>;
  pushAttempts: number;
  /** Where notices go (a stale remote lock removed). */
  log: GitLog;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What git said, on one line: its non-empty lines joined (the reason is rarely the last line alone). */
export function gitSaid(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ').slice(0, 600);
}
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
  const files = names.map((n) => ({ path: `inbox/${n}`, bytes: readFileSync(join(layout.inbox, n)) }));
  const upstream = `refs/remotes/origin/${t.branch}`;
  const frames = names.map((n) => /^frame-(\d+)\./.exec(n)?.[1]).filter(Boolean).map(Number);
  const subject = message ?? `deltas: ${names.length} from ${t.identity}${frames.length ? ` (frames ${Math.min(...frames)}–${Math.max(...frames)})` : ''}`;
  await t.fetch();
  let last = '';
  for (let attempt = 0; attempt < t.pushAttempts; attempt++) {
    const [base, baseTree] = (await git(t.dir, ['rev-parse', upstream, `${upstream}^{tree}`])).trim().split('\n');
    // One process writes the blobs, the tree and the commit on top of the remote's tip, as one pack.
    const commit = (await git(t.dir, ['fast-import', '--quiet', '--force', '--done'], { input: fastImportScript(t, base, subject, files) })).trim();
    const tree = (await git(t.dir, ['rev-parse', `${commit}^{tree}`])).trim();
    if (tree === baseTree) {
      clearSpool(layout.inbox, names); // every file is already pending upstream
      return { committed: 0, pushed: false };
    }
    const r = await gitTry(t.dir, ['push', '--quiet', '--no-verify', '--no-thin', 'origin', `${commit}:refs/heads/${t.branch}`]);
    if (r.code === 0) {
      await gitTry(t.dir, ['update-ref', upstream, commit]);
      clearSpool(layout.inbox, names);
      return { committed: names.length, pushed: true };
    }
    last = gitSaid(r.stderr || r.stdout);
    if (reportStaleRemoteLock(removeStaleRemoteLock(r.stderr + r.stdout, t.url), t.log)) continue;
    // Someone pushed first (or the remote is busy): back off with jitter, so that contending writers
    // spread out instead of all fetching and retrying at once.
    const cap = REJECTED.test(r.stderr + r.stdout) ? 400 : 2000;
    await sleep(Math.random() * Math.min(cap, 8 * 2 ** Math.min(attempt, 8)));
    await t.fetch();
  }
  throw new FramelogError(`git push to origin failed ${t.pushAttempts} times (last: ${last}); the deltas stay in ${layout.inbox} and go with the next put`, 'git-push-failed');
}

/** A `git fast-import` stream: one commit on `base` adding `files`, then the commit's id on stdout. */
function fastImportScript(t: SpoolTarget, base: string, subject: string, files: Array<{ path: string; bytes: Buffer }>): Buffer {
  const who = `${t.identity} <${t.identity}@${hostname()}.framelog.invalid> ${Math.floor(Date.now() / 1000)} +0000`;
  const msg = Buffer.from(subject + '\n');
  const parts: Buffer[] = [Buffer.from(`feature done\nfeature get-mark\ncommit refs/framelog/spool\nmark :1\ncommitter ${who}\ndata ${msg.length}\n`), msg, Buffer.from(`from ${base}\n`)];
  for (const f of files) parts.push(Buffer.from(`M 100644 inline ${f.path}\ndata ${f.bytes.length}\n`), f.bytes, Buffer.from('\n'));
  parts.push(Buffer.from('\nget-mark :1\ndone\n'));
  return Buffer.concat(parts);
}

/**
 * Writes deltas into a writer's spool under the names `landDeltas` gives (identity + hash; bytes
 * that are no valid delta by their hash), exactly as received, never replacing a file. Not
 * fsynced: `put` acknowledges only once the remote accepted the push, so the spool only has to
 * survive the writer process being killed, not the machine losing power.
 */
export function spoolDeltas(ctx: StoreContext, arrivals: Uint8Array[]): Array<{ name: string; written: boolean }> {
  return arrivals.map((bytes) => {
    const check = parseDelta(bytes, ctx.plan);
    const name = check.ok ? inboxName(check.delta) : `unparsed-${sha256Hex(bytes).slice(0, 24)}.json`;
    const path = join(ctx.layout.inbox, name);
    const tmp = tempNameFor(path);
    writeFileSync(tmp, bytes, { flag: 'wx' });
    try {
      linkSync(tmp, path);
      return { name, written: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { name, written: false };
      throw e;
    } finally {
      unlinkSync(tmp);
    }
  });
}

/** Drops published files from the spool (not fsynced: a file that comes back is sent again, an identical copy). */
function clearSpool(inbox: string, names: string[]): void {
  for (const n of names) {
    try { unlinkSync(join(inbox, n)); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
  }
}
