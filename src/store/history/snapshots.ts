import { readTextIfExists } from '../../durable/index.js';
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotJson, snapshotJsonV1, type Snapshot } from '../../merge/snapshotCodec.js';
import type { MergeState } from '../../merge/mergeState.js';
import { tempNameFor } from '../../durable/durableFs.js';
import { dropTemp } from '../../durable/sweepTemps.js';
import { snapshotName, type StoreLayout } from '../layout.js';

const SNAPSHOT_FILE = /^frame-(\d+)\.json$/;

/** Frames that have a snapshot, ascending. */
export function listSnapshotFrames(layout: StoreLayout): number[] {
  let names: string[];
  try {
    names = readdirSync(layout.snapshots);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const frames: number[] = [];
  for (const n of names) {
    const m = SNAPSHOT_FILE.exec(n);
    if (m) frames.push(Number(m[1]));
  }
  return frames.sort((a, b) => a - b);
}

/**
 * The canonical text of a state's snapshot (what the file holds, and what verify compares):
 * version 2, or version 1 for `version: 1` (the snapshots of stores written before v1.1).
 */
export function snapshotText(state: MergeState, recordSha256: string | null, explicitKeys = false, version: 1 | 2 = 2): string {
  return (version === 1 ? snapshotJsonV1(state, recordSha256) : snapshotJson(state, recordSha256, explicitKeys)) + '\n';
}

/**
 * Writes the snapshot of `state`, anchored to its merge record's line hash: temp + rename, so a
 * reader never sees half of it, but not fsynced — a snapshot is a cache, and one lost to a power
 * failure is a cache miss (an unreadable one is skipped the same way).
 */
export function writeSnapshot(layout: StoreLayout, state: MergeState, recordSha256: string | null, explicitKeys = false): void {
  const path = join(layout.root, snapshotName(state.frame as number));
  const tmp = tempNameFor(path);
  try {
    writeFileSync(tmp, snapshotText(state, recordSha256, explicitKeys));
    renameSync(tmp, path); // unsynced: a cache, healed after a power failure (loadMergeSession)
  } catch (e) {
    dropTemp(tmp, e);
    throw e;
  }
}

/** Reads the snapshot of `frame`, or undefined when it is missing or unreadable (a cache miss). */
export function readSnapshot(layout: StoreLayout, frame: number): { snapshot: Snapshot; text: string } | undefined {
  const text = readTextIfExists(join(layout.root, snapshotName(frame)));
  if (text === undefined) return undefined;
  try {
    return { snapshot: JSON.parse(text) as Snapshot, text };
  } catch {
    return undefined;
  }
}
