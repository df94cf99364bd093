import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { identityKey } from '../delta/identity.js';
import { sha256Hex } from '../delta/contentHash.js';
import type { Plan } from '../delta/plan.js';
import type { DeltaRef, ValidDelta } from '../delta/types.js';
import { describeProblem, parseDelta } from '../delta/validateDelta.js';
import { FramelogError } from '../errors.js';
import { archiveDirName } from './layout.js';
import type { StoreContext } from './storeContext.js';

/** A file of a merge's archive folder, parsed. */
export interface ArchivedDelta {
  /** Path relative to the store root. */
  file: string;
  /** SHA-256 of the file's bytes. */
  bytesSha256: string;
  delta?: ValidDelta;
  /** Why it no longer validates (an edited archive). */
  problem?: string;
}

/** Reads every delta archived by merge `frame`, in file-name order. */
export function readArchive(ctx: StoreContext, frame: number, plan: Plan): ArchivedDelta[] {
  const rel = archiveDirName(frame);
  let names: string[];
  try {
    names = readdirSync(join(ctx.layout.root, rel)).filter((n) => !n.startsWith('.')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.map((n) => {
    const file = `${rel}/${n}`;
    const bytes = readFileSync(join(ctx.layout.root, file));
    const check = parseDelta(bytes, plan);
    const bytesSha256 = sha256Hex(bytes);
    return check.ok ? { file, bytesSha256, delta: check.delta } : { file, bytesSha256, problem: describeProblem(check.problem) };
  });
}

const refKey = (r: DeltaRef): string => `${identityKey(r)}/${r.sha256}`;

/**
 * The deltas a merge record lists as applied, from its archive folder, in the record's order.
 * Throws naming the archive folder when one is missing or altered.
 */
export function appliedDeltasOf(ctx: StoreContext, record: { frame: number; applied: DeltaRef[] }, plan: Plan): ValidDelta[] {
  const byRef = new Map<string, ValidDelta>();
  for (const a of readArchive(ctx, record.frame, plan)) if (a.delta) byRef.set(refKey(a.delta), a.delta);
  return record.applied.map((ref) => {
    const d = byRef.get(refKey(ref));
    if (!d) {
      throw new FramelogError(`${archiveDirName(record.frame)}: applied delta ${ref.frame}/${ref.writer}/${ref.seq} (${ref.sha256.slice(0, 12)}) is missing or altered (run framelog verify)`, 'corrupt-archive');
    }
    return d;
  });
}
