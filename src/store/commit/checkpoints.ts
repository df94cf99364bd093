import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../../delta/plan.js';
import { listSnapshotFrames } from '../history/snapshots.js';
import { snapshotName, type StoreLayout } from '../layout.js';

/**
 * What the checkpoint policy (PROTOCOL v1.1 §3) needs to know between merges. A checkpoint is a
 * merge whose record carries `state_sha256` and after which a snapshot is written: it costs the
 * whole state, so it is taken only when the deltas applied since the last one weigh as much as
 * the state did then (or every `snapshotEvery` merges when the plan says so). Over any history
 * the checkpoints then cost about what the deltas cost.
 */
export interface CheckpointClock {
  /** Bytes (as received) of the deltas applied since the last checkpoint. */
  bytesSince: number;
  /** Merges since the last checkpoint. */
  mergesSince: number;
  /** Bytes of the canonical state at the last checkpoint; 0 before the first. */
  stateBytes: number;
}

/** True when the merge just applied (already counted into `clock`) must be a checkpoint. */
export function checkpointDue(clock: CheckpointClock, plan: Plan): boolean {
  if (plan.snapshotEvery !== undefined && clock.mergesSince >= plan.snapshotEvery) return true;
  return clock.bytesSince >= clock.stateBytes;
}

/** Resets the clock after a checkpoint of a state of `stateBytes` bytes. */
export function markCheckpoint(clock: CheckpointClock, stateBytes: number): void {
  clock.bytesSince = 0;
  clock.mergesSince = 0;
  clock.stateBytes = stateBytes;
}

const sizeOf = (path: string): number => {
  try {
    return statSync(path).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
};

/** Bytes the archive holds (segments, and the files of v1 per-merge folders). */
export function archiveBytes(layout: StoreLayout): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(layout.archive);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  for (const n of names) {
    if (n.startsWith('.')) continue;
    const p = join(layout.archive, n);
    if (n.endsWith('.ndjson')) total += sizeOf(p);
    else if (/^merge-\d+$/.test(n)) for (const f of readdirSync(p)) total += sizeOf(join(p, f));
  }
  return total;
}

/**
 * How much snapshot bytes may weigh against the archive, less the journals: the store (archive,
 * journals, snapshots) stays within 3× its archived deltas.
 */
export const SNAPSHOT_BUDGET = 2;

/**
 * Thins old snapshots (a cache) so that together with the journals they weigh at most
 * {@link SNAPSHOT_BUDGET} × the archive: the oldest (the smallest, in a state that grows) go first,
 * the newest always stays. Old states then replay from an earlier
 * snapshot (or from the start), which costs about what their own history weighs. Returns the
 * frames removed.
 */
export function thinSnapshots(layout: StoreLayout, archived: number): number[] {
  const frames = listSnapshotFrames(layout);
  const sizes = frames.map((f) => sizeOf(join(layout.root, snapshotName(f))));
  let total = sizes.reduce((a, b) => a + b, 0);
  // Snapshots get what the 3× bound leaves beside the journals (merge records weigh much when
  // deltas are tiny). Only a store over its bound loses snapshots: each one kept bounds the replay
  // of the states after it.
  const journals = [layout.merges, layout.conflicts, layout.events, layout.plans].reduce((a, p) => a + sizeOf(p), 0);
  const budget = Math.max(0, SNAPSHOT_BUDGET * archived - journals);
  const removed: number[] = [];
  for (let i = 0; i < frames.length - 1 && total > budget; i++) {
    try {
      unlinkSync(join(layout.root, snapshotName(frames[i])));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    total -= sizes[i];
    removed.push(frames[i]);
  }
  return removed;
}
