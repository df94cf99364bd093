import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** `tempNameFor`'s shape: `.NAME.PID.RANDOM.tmp`. */
const TEMP = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** True when no process `pid` runs on this machine now. */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes the temp files (`tempNameFor`) that processes now gone left in `dirs`: a put, a lock or
 * a snapshot cut short by SIGKILL or a power failure never gets to remove its own. A temp is
 * removed only when its writer's pid runs no more and it is older than `minAgeMs` (a pid reused
 * since keeps its temps until that process ends too). Returns the paths removed. Missing folders
 * are skipped; any other failure is thrown.
 */
export function sweepTemps(dirs: readonly string[], { now = Date.now(), minAgeMs = 60_000 } = {}): string[] {
  const removed: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    for (const name of names) {
      const m = TEMP.exec(name);
      if (!m || Number(m[1]) === process.pid || !gone(Number(m[1]))) continue;
      const path = join(dir, name);
      try {
        if (now - statSync(path).mtimeMs < minAgeMs) continue;
        unlinkSync(path);
        removed.push(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // removed meanwhile by another sweep
      }
    }
  }
  return removed;
}

/**
 * Removes a temp file after a failed write; a failure to remove it (other than its being gone)
 * is added to `primary`'s message, which stays the error thrown.
 */
export function dropTemp(tmp: string, primary: unknown): void {
  try {
    unlinkSync(tmp);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    if (primary instanceof Error) primary.message += ` (and removing the temp file ${tmp} failed: ${(e as Error).message})`;
  }
}
