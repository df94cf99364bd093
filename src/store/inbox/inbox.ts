import { readdirSync, statSync } from 'node:fs';
import { FileTooLarge, readFileNoAtime } from '../../durable/durableFs.js';
import { ndjsonLines } from '../../delta/ndjsonLines.js';
import { join } from 'node:path';
import type { Plan } from '../../delta/plan.js';
import { sha256Hex } from '../../delta/contentHash.js';
import type { ValidDelta } from '../../delta/types.js';
import { describeProblem, parseDelta } from '../../delta/validateDelta.js';
import type { StoreLayout } from '../layout.js';
import { inboxName } from '../../delta/identity.js';

/** A pending delta that validated. */
export interface InboxDelta {
  /**
   * Its name: the inbox file's; for a line of a batch, the name `put` gives a delta of its own
   * (`frame-000530.w3.0.<hash>.json`, PROTOCOL §5), so the archive is the same however writers
   * grouped their deltas into batches (a `~2` suffix when that name is taken). It is the name
   * the delta is archived under, and the file it becomes if it has to wait alone for a later merge.
   */
  name: string;
  /** The inbox file that holds it (a batch holds several). */
  source: string;
  delta: ValidDelta;
  /** Its bytes exactly as received (a batch line without its line break). */
  bytes: Uint8Array;
  /** SHA-256 of `bytes` (the archive hash uses it). */
  bytesSha256: string;
}

/** A pending file or batch line that broke PROTOCOL §1: quarantined by the next merge. */
export interface InboxBad {
  /** The inbox file's name; for a bad line N of batch `B.ndjson`, `B.line-N.json`. */
  name: string;
  source: string;
  why: string;
  /** The line's bytes, for a batch line (a whole file is moved, not copied). */
  bytes?: Uint8Array;
}

/** The inbox after reading: the deltas to merge and what to quarantine. */
export interface InboxScan {
  valid: InboxDelta[];
  bad: InboxBad[];
}

const isPending = (name: string): boolean => !name.startsWith('.') && (name.endsWith('.json') || name.endsWith('.ndjson'));

/**
 * Names of pending inbox files (PROTOCOL §3): regular files not starting with `.` whose name ends
 * in `.json` (one delta) or `.ndjson` (a batch, one delta per non-empty line).
 */
export function listInbox(layout: StoreLayout): string[] {
  return readdirSync(layout.inbox, { withFileTypes: true })
    .filter((d) => d.isFile() && isPending(d.name))
    .map((d) => d.name)
    .sort();
}

/** The name of line `line` (1-based) of batch `batch`: `B.line-N.json`. */
export const batchLineName = (batch: string, line: number): string => `${batch.slice(0, -'.ndjson'.length)}.line-${line}.json`;

/** The hash of an archive: each entry's name and the SHA-256 of its bytes, sorted by name. */
export function archiveHash(files: Array<{ name: string; bytesSha256: string }>): string {
  return sha256Hex(files.map((f) => `${f.name}\u0000${f.bytesSha256}\n`).sort().join(''));
}

/** What one inbox file holds, parsed: its valid deltas and its bad lines (or itself, bad). */
export type InboxFileScan = { valid: InboxDelta[]; bad: InboxBad[] };
type Scanned = InboxFileScan;

/**
 * Parse results of inbox files, kept by a long-running merger so that each file is read and
 * validated once, not at every wake-up. An entry holds while the file's inode, size and mtime do.
 */
export type InboxCache = Map<string, { ino: number; size: number; mtimeMs: number; result: Scanned }>;

function judge(name: string, source: string, bytes: Uint8Array, plan: Plan, out: Scanned, line: boolean): void {
  const check = parseDelta(bytes, plan);
  if (check.ok) out.valid.push({ name: line ? inboxName(check.delta) : name, source, delta: check.delta, bytes, bytesSha256: sha256Hex(bytes) });
  else out.bad.push({ name, source, why: describeProblem(check.problem), ...(line ? { bytes } : {}) });
}

/** Each non-empty line of a batch, judged on its own as if it were a file of its own (PROTOCOL §3). */
function scanBatch(source: string, buf: Buffer, plan: Plan, out: Scanned): void {
  for (const { line, bytes } of ndjsonLines(buf)) judge(batchLineName(source, line), source, bytes, plan, out, true);
}

/**
 * The largest batch file a merger reads (a whole-file delta is held to the plan's `maxDeltaBytes`):
 * 256 MiB, or one `maxDeltaBytes` when the plan allows more. A larger file is set aside in
 * quarantine, unread, with the reason: split it into several batches.
 */
export const maxBatchBytes = (plan: Plan): number => Math.max(256 * 1024 * 1024, plan.maxDeltaBytes);

function scanOne(dir: string, name: string, plan: Plan): Scanned | undefined {
  const batch = name.endsWith('.ndjson');
  let bytes: Buffer;
  try {
    bytes = readFileNoAtime(join(dir, name), batch ? maxBatchBytes(plan) : plan.maxDeltaBytes);
  } catch (e) {
    if (e instanceof FileTooLarge) {
      const rule = batch ? `batch file is ${e.size} bytes, over the ${e.limit} a merger reads (split it into several batches)` : `delta is ${e.size} bytes, over maxDeltaBytes (${e.limit})`;
      return { valid: [], bad: [{ name, source: name, why: describeProblem({ field: '', rule }) }] };
    }
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // moved meanwhile; the next scan sees where
    throw e;
  }
  const out: Scanned = { valid: [], bad: [] };
  if (name.endsWith('.ndjson')) scanBatch(name, bytes, plan, out);
  else judge(name, name, bytes, plan, out, false);
  return out;
}

/** Reads and validates every pending delta file and batch line (through `cache` when one is given). */
export function scanInbox(layout: StoreLayout, plan: Plan, cache?: InboxCache): InboxScan {
  const scan: InboxScan = { valid: [], bad: [] };
  const names = listInbox(layout);
  const used = new Set(names.filter((n) => n.endsWith('.json')));
  for (const name of names) {
    let result: Scanned | undefined;
    if (cache) {
      let st;
      try {
        st = statSync(join(layout.inbox, name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const hit = cache.get(name);
      if (hit && hit.ino === st.ino && hit.size === st.size && hit.mtimeMs === st.mtimeMs) result = hit.result;
      else {
        result = scanOne(layout.inbox, name, plan);
        if (result) cache.set(name, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, result });
      }
    } else result = scanOne(layout.inbox, name, plan);
    if (!result) continue;
    for (const v of result.valid) {
      if (v.source === v.name) scan.valid.push(v);
      else {
        // A batch line takes its own name unless a pending file or an earlier line has it.
        let name = v.name;
        for (let i = 2; used.has(name); i++) name = `${v.name.slice(0, -'.json'.length)}~${i}.json`;
        used.add(name);
        scan.valid.push(name === v.name ? v : { ...v, name });
      }
    }
    for (const b of result.bad) scan.bad.push(b);
  }
  if (cache && cache.size > names.length) {
    const live = new Set(names);
    for (const k of cache.keys()) if (!live.has(k)) cache.delete(k);
  }
  return scan;
}
