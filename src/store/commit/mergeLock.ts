import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, fsyncSync, linkSync } from 'node:fs';
import { hostname } from 'node:os';
import { FramelogError } from '../../errors.js';

/** Who holds a store's merger lock. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The holder process's start time (from /proc), so a reused pid is not taken for the holder. */
  start: string;
  since: string;
}

/** The start time of process `pid` (clock ticks since boot, from /proc), or '' when unknown. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the parenthesised command name (which may hold spaces).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

function isAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true; // cannot tell for another host: assume alive
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStartTime(h.pid);
  return start === undefined ? process.platform !== 'linux' : start === h.start;
}

function readHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A torn lock (its writer died mid-write) holds no live claim.
    return { pid: -1, host: hostname(), start: '', since: '' };
  }
}

/** A held lock; `release()` gives it up. */
export interface MergeLock {
  holder: LockHolder;
  release(): void;
}

/**
 * Takes the store's merger lock: one merger per store (PROTOCOL §3). A lock whose holder is dead
 * (or whose pid now belongs to another process) is taken over; a live holder is named in the error.
 */
export function acquireMergeLock(path: string): MergeLock {
  const me: LockHolder = { pid: process.pid, host: hostname(), start: processStartTime(process.pid) ?? '', since: new Date().toISOString() };
  const body = JSON.stringify(me) + '\n';
  for (let attempt = 0; attempt < 5; attempt++) {
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o644);
    writeSync(fd, body);
    fsyncSync(fd);
    closeSync(fd);
    try {
      linkSync(tmp, path);
      unlinkSync(tmp);
      return { holder: me, release: () => releaseIfMine(path, me) };
    } catch (e) {
      unlinkSync(tmp);
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(path);
    if (!holder) continue;
    if (isAlive(holder)) {
      throw new FramelogError(`store is being merged by pid ${holder.pid} on ${holder.host} since ${holder.since} (lock ${path})`, 'locked');
    }
    // Take over a stale lock: move it aside, then check we moved the one we judged stale.
    const aside = `${path}.stale.${process.pid}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const moved = readHolder(aside);
    if (moved && moved.pid !== holder.pid && isAlive(moved)) {
      try { linkSync(aside, path); } catch { /* someone else holds it now; our next attempt reports them */ }
    }
    unlinkSync(aside);
  }
  throw new FramelogError(`could not take the merger lock ${path}: it keeps changing hands`, 'locked');
}

function releaseIfMine(path: string, me: LockHolder): void {
  const h = readHolder(path);
  if (h && h.pid === me.pid && h.start === me.start && h.since === me.since) unlinkSync(path);
}
