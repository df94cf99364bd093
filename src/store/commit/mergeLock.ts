import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { FramelogError } from '../../errors.js';
import { fileLock } from '../../durable/fileLock.js';

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

/** True when `h` names a process that is running now on this host (another host: assumed alive). */
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

/** The holder written in the lock file (read through our descriptor), or undefined when it names none. */
function holderIn(fd: number): LockHolder | undefined {
  const text = readFileSync(fd, 'utf8');
  if (text.trim() === '') return undefined;
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? (h as LockHolder) : undefined;
  } catch {
    return undefined; // torn by a holder that died writing it: the kernel has already dropped its lock
  }
}

/** A held lock; `release()` gives it up. */
export interface MergeLock {
  holder: LockHolder;
  release(): void;
}

/**
 * Takes the store's merger lock: one merger per store (PROTOCOL §3).
 *
 * The lock is an exclusive `flock(2)` on the file at `path`, held through an open descriptor for
 * as long as the merger runs: the kernel gives it up when the holder exits or dies (even by
 * SIGKILL), so there is no stale lock to judge and no takeover to race. The file is never removed
 * (a removed file would let two processes lock two different files); while held it names the
 * holder (pid, host, process start time, since), which the error shows to a contender. A file
 * that names a live process that does not hold the flock was written by an earlier framelog, whose
 * lock was the file itself (created by link, taken over by rename): it is respected as held.
 *
 * Any failure other than "held by another" (a descriptor limit, an I/O error) is thrown as it is:
 * a contender never removes or rewrites a lock it could not judge.
 */
export function acquireMergeLock(path: string): MergeLock {
  const me: LockHolder = { pid: process.pid, host: hostname(), start: processStartTime(process.pid) ?? '', since: new Date().toISOString() };
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  let held = false;
  try {
    if (!fileLock.try(fd, 'ex')) {
      const h = holderIn(fd);
      throw new FramelogError(h ? `store is being merged by pid ${h.pid} on ${h.host} since ${h.since} (lock ${path})` : `store is being merged by another process (lock ${path}; it has not written its name yet)`, 'locked');
    }
    held = true;
    const before = holderIn(fd);
    if (before && !(before.pid === me.pid && before.start === me.start) && isAlive(before)) {
      throw new FramelogError(`store is being merged by pid ${before.pid} on ${before.host} since ${before.since} (lock ${path}, taken by an earlier framelog that did not use flock)`, 'locked');
    }
    ftruncateSync(fd, 0);
    writeSync(fd, JSON.stringify(me) + '\n', 0);
  } catch (e) {
    if (held) fileLock.release(fd);
    closeSync(fd);
    throw e;
  }
  let released = false;
  return {
    holder: me,
    release() {
      if (released) return;
      released = true;
      try {
        ftruncateSync(fd, 0); // names no holder once given up
      } finally {
        closeSync(fd); // drops the flock
      }
    },
  };
}
