import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { identityKey } from '../../delta/identity.js';
import { sha256Hex } from '../../delta/contentHash.js';
import type { Plan } from '../../delta/plan.js';
import type { DeltaRef, ValidDelta } from '../../delta/types.js';
import { describeProblem, parseDelta } from '../../delta/validateDelta.js';
import { FramelogError } from '../../errors.js';
import { archiveDirName } from '../layout.js';
import { decodeSegment, readSegmentCommit, segmentName, type SegmentCommit, type SegmentEntry } from './archiveSegment.js';
import type { StoreContext } from '../storeContext.js';

/** A file of a merge's archive folder, parsed. */
export interface ArchivedDelta {
  /**
   * Where it is, relative to the store root: `archive/merge-N.ndjson#<name>` in a segment,
   * `archive/merge-N/<name>` in a v1 folder.
   */
  file: string;
  /** The name it had in the inbox. */
  name: string;
  /** Its size in bytes. */
  size: number;
  /** Its bytes exactly as received. */
  bytes: Uint8Array;
  /** SHA-256 of the file's bytes. */
  bytesSha256: string;
  delta?: ValidDelta;
  /** Why it no longer validates (an edited archive). */
  problem?: string;
}

/**
 * The raw entries archived by merge `frame`: its segment (`archive/merge-N.ndjson`, v1.1), or the
 * files of its folder (`archive/merge-N/`, stores written before segments), in name order.
 * `where` is the segment or folder, relative to the store root.
 */
export function readArchiveEntries(ctx: StoreContext, frame: number): { where: string; entries: SegmentEntry[] } {
  const seg = segmentName(frame);
  let buf: Buffer | undefined;
  try {
    buf = readFileSync(join(ctx.layout.root, seg));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (buf) return { where: seg, entries: decodeSegment(buf, seg) };
  const rel = archiveDirName(frame);
  let names: string[];
  try {
    names = readdirSync(join(ctx.layout.root, rel)).filter((n) => !n.startsWith('.')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { where: seg, entries: [] };
    throw e;
  }
  return { where: rel, entries: names.map((name) => ({ name, bytes: readFileSync(join(ctx.layout.root, rel, name)) })) };
}

/** The commit line of merge `frame`'s segment, when it has a segment with one. */
export function segmentCommitOf(ctx: StoreContext, frame: number): SegmentCommit | undefined {
  try {
    return readSegmentCommit(readFileSync(join(ctx.layout.root, segmentName(frame))));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Reads every delta archived by merge `frame`, in name order. */
export function readArchive(ctx: StoreContext, frame: number, plan: Plan): ArchivedDelta[] {
  const { where, entries } = readArchiveEntries(ctx, frame);
  const prefix = where.endsWith('.ndjson') ? `${where}#` : `${where}/`;
  return entries.map(({ name, bytes }) => {
    const file = prefix + name;
    const check = parseDelta(bytes, plan);
    const bytesSha256 = sha256Hex(bytes);
    return check.ok ? { file, name, bytes, bytesSha256, size: bytes.length, delta: check.delta } : { file, name, bytes, bytesSha256, size: bytes.length, problem: describeProblem(check.problem) };
  });
}

const refKey = (r: DeltaRef): string => `${identityKey(r)}/${r.sha256}`;

/**
 * The deltas a merge record lists as applied, from its archive, in the record's order, and the
 * bytes they weigh as received. Throws naming the segment when one is missing or altered.
 */
export function appliedArchiveOf(ctx: StoreContext, record: { frame: number; applied: DeltaRef[] }, plan: Plan): { deltas: ValidDelta[]; bytes: number } {
  const byRef = new Map<string, { delta: ValidDelta; size: number }>();
  for (const a of readArchive(ctx, record.frame, plan)) if (a.delta) byRef.set(refKey(a.delta), { delta: a.delta, size: a.size });
  let bytes = 0;
  const deltas = record.applied.map((ref) => {
    const d = byRef.get(refKey(ref));
    if (!d) {
      throw new FramelogError(`${segmentName(record.frame)}: applied delta ${ref.frame}/${ref.writer}/${ref.seq} (${ref.sha256.slice(0, 12)}) is missing or altered (run framelog verify)`, 'corrupt-archive');
    }
    bytes += d.size;
    return d.delta;
  });
  return { deltas, bytes };
}

/** The deltas a merge record lists as applied, from its archive, in the record's order. */
export function appliedDeltasOf(ctx: StoreContext, record: { frame: number; applied: DeltaRef[] }, plan: Plan): ValidDelta[] {
  return appliedArchiveOf(ctx, record, plan).deltas;
}
