import { readdirSync, readFileSync } from 'node:fs';
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

/** Reads and validates every pending delta file. */
export function scanInbox(layout: StoreLayout, plan: Plan, names = listInbox(layout)): InboxScan {
  const scan: InboxScan = { valid: [], bad: [] };
  for (const name of names) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(layout.inbox, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // taken by a rollback race; next merge sees it
      throw e;
    }
    const check = parseDelta(bytes, plan);
    if (check.ok) scan.valid.push({ name, delta: check.delta, bytesSha256: sha256Hex(bytes) });
    else scan.bad.push({ name, why: describeProblem(check.problem) });
  }
  return scan;
}
