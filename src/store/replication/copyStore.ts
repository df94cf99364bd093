import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FramelogError } from '../../errors.js';
import { writeFileDurable } from '../../durable/durableFs.js';
import { importMergeBundle, storeHead, type StoreHead } from './importMergeBundle.js';
import { snapshotName } from '../layout.js';
import { exportMergeBundles } from './mergeBundle.js';
import { openMergerOn } from '../openStore.js';
import { listSnapshotFrames } from '../history/snapshots.js';
import { initStore, type StoreContext } from '../storeContext.js';

/** What {@link copyStore} copied. */
export interface CopyOutcome {
  /** Merges copied (the source's history when the copy began). */
  merges: number;
  /** The frame of the last one (null: the source had merged nothing). */
  frame: number | null;
  /** Snapshots copied with them (a cache: a copy without them rebuilds state from the archive). */
  snapshots: number;
}


/** Options of {@link copyStore}. */
export interface CopyOptions {
  /** Merges per read of the source's journals (default 500). */
  chunk?: number;
  /** Called after each chunk: merges copied so far, and how many will be. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Copies a store's merge history into a new store at `toDir`: its plan, then every merge the
 * source had committed when the copy began, byte for byte (record, plan, conflict and event lines,
 * archive and quarantine files, through the same bundles the transports publish and with the same
 * crash safety as a merge), then the snapshots of those frames. Safe while the source's merger
 * runs: a merge committed during the copy is left out (the copy's merger catches up with it from
 * the transport). This is how a new merger host starts from another host's store, e.g. when the
 * published merges it would need were trimmed. The inbox, streams and views are not copied: they
 * are not the merge history (views are rebuilt). Refuses a `toDir` that is already a store.
 */
export function copyStore(from: StoreContext, toDir: string, o: CopyOptions = {}): CopyOutcome {
  const chunk = o.chunk ?? 500;
  const total = storeHead(from).index;
  const to = initStore(toDir, from.plan);
  const merger = openMergerOn(to); // the copy's merger lock, held while its history is written
  let head: StoreHead = { index: 0, frame: null, recordSha256: null };
  try {
    for (let i = 1; i <= total; i += chunk) {
      const bundles = exportMergeBundles(from, i, Math.min(total, i + chunk - 1));
      if (bundles.length === 0 || bundles[0].index !== i) throw new FramelogError(`copy: merge ${i} of ${from.layout.root} could not be read (was the source rewound meanwhile?)`, 'diverged');
      for (const b of bundles) head = importMergeBundle(to, b, head);
      o.onProgress?.(head.index, total);
    }
  } finally {
    merger.close();
  }
  let snapshots = 0;
  for (const f of listSnapshotFrames(from.layout)) {
    if (head.frame === null || f > head.frame) continue;
    const src = join(from.layout.root, snapshotName(f));
    if (!existsSync(src)) continue; // a cache file the source just pruned
    writeFileDurable(join(to.layout.root, snapshotName(f)), readFileSync(src));
    snapshots++;
  }
  return { merges: head.index, frame: head.frame, snapshots };
}
