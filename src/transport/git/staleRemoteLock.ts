import { existsSync, statSync, unlinkSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { GitLog } from './gitLog.js';

/** A lock git holds inside a repository for milliseconds (a ref update): one this old is a killed process's. */
export const STALE_REMOTE_LOCK_MS = 10_000;

/**
 * A push refused because a lock file exists in the remote repository ("Unable to create
 * '…/refs/heads/main.lock': File exists"): when the remote is a repository on this machine's disk
 * and the lock is older than {@link STALE_REMOTE_LOCK_MS}, it was left by a git killed mid-push
 * (SIGKILL, a crash: git removes its locks on every other exit), and every later push would fail
 * on it forever. Removes it and returns its path; returns undefined when the message names no
 * lock, the remote is not a local path, the lock is outside it, or the lock is young (a live push
 * may hold it: the caller retries). A remote on a server is the server's to clean.
 */
export function removeStaleRemoteLock(gitOutput: string, remoteUrl: string, now = Date.now()): { path: string; ageMs: number } | undefined {
  const m = /Unable to create '([^']+\.lock)': File exists/.exec(gitOutput);
  if (!m) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remoteUrl) && !remoteUrl.startsWith('file://')) return undefined;
  if (/^[^/]+@[^/]+:/.test(remoteUrl)) return undefined; // scp-style ssh remote
  const repo = resolve(remoteUrl.replace(/^file:\/\//, ''));
  const lock = resolve(m[1]);
  const inside = relative(repo, lock);
  if (inside.startsWith('..') || isAbsolute(inside) || !existsSync(lock)) return undefined;
  const ageMs = now - statSync(lock).mtimeMs;
  if (ageMs < STALE_REMOTE_LOCK_MS) return undefined;
  try {
    unlinkSync(lock);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // another writer removed it first
  }
  return { path: lock, ageMs };
}

/** Says through `log` that a stale lock was removed (one line); true when there was one. */
export function reportStaleRemoteLock(removed: { path: string; ageMs: number } | undefined, log: GitLog): boolean {
  if (!removed) return false;
  log(`removed ${removed.path}, a lock ${Math.round(removed.ageMs / 1000)} s old that a git killed mid-push left in the remote; pushing again`);
  return true;
}
