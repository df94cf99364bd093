import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../delta/plan.js';
import { sha256Hex } from '../delta/contentHash.js';
import type { ValidDelta } from '../delta/types.js';
import { describeProblem, parseDelta } from '../delta/validateDelta.js';
import type { StoreLayout } from './layout.js';

/** The inbox after reading: the deltas to merge and the files to quarantine. */
export interface InboxScan {
  /** Valid deltas; `bytesSha256` is the SHA-256 of the file's bytes (the archive hash uses it). */
  valid: Array<{ name: string; delta: ValidDelta; bytesSha256: string }>;
  bad: Array<{ name: string; why: string }>;
}

/** Names of pending delta files: regular files ending in `.json` not starting with `.` (PROTOCOL §3). */
export function listInbox(layout: StoreLayout): string[] {
  return readdirSync(layout.inbox, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.json') && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
}

/** The hash of an archive folder: each file's name and the SHA-256 of its bytes, sorted by name. */
export function archiveHash(files: Array<{ name: string; bytesSha256: string }>): string {
  return sha256Hex(files.map((f) => `${f.name}\u0000${f.bytesSha256}\n`).sort().join(''));
}

type Scanned = { ok: true; delta: ValidDelta; bytesSha256: string } | { ok: false; why: string };

/**
 * Parse results of inbox files, kept by a long-running merger so that each file is read and
 * validated once, not at every wake-up. An entry holds while the file's inode, size and mtime do.
 */
export type InboxCache = Map<string, { ino: number; size: number; mtimeMs: number; result: Scanned }>;

function scanOne(path: string, plan: Plan): Scanned | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // moved meanwhile; the next scan sees where
    throw e;
  }
  const check = parseDelta(bytes, plan);
  return check.ok ? { ok: true, delta: check.delta, bytesSha256: sha256Hex(bytes) } : { ok: false, why: describeProblem(check.problem) };
}

/** Reads and validates every pending delta file (through `cache` when one is given). */
export function scanInbox(layout: StoreLayout, plan: Plan, cache?: InboxCache): InboxScan {
  const scan: InboxScan = { valid: [], bad: [] };
  const names = listInbox(layout);
  for (const name of names) {
    const path = join(layout.inbox, name);
    let result: Scanned | undefined;
    if (cache) {
      let st;
      try {
        st = statSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const hit = cache.get(name);
      if (hit && hit.ino === st.ino && hit.size === st.size && hit.mtimeMs === st.mtimeMs) result = hit.result;
      else {
        result = scanOne(path, plan);
        if (result) cache.set(name, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, result });
      }
    } else result = scanOne(path, plan);
    if (!result) continue;
    if (result.ok) scan.valid.push({ name, delta: result.delta, bytesSha256: result.bytesSha256 });
    else scan.bad.push({ name, why: result.why });
  }
  if (cache && cache.size > names.length) {
    const live = new Set(names);
    for (const k of cache.keys()) if (!live.has(k)) cache.delete(k);
  }
  return scan;
}
