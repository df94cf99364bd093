import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MergeRecord } from '../../merge/records.js';
import { landDeltas } from '../../store/inbox/landDeltas.js';
import type { Merger } from '../../store/openStore.js';
import { createBundleTap, type MergeBundle } from '../../store/replication/mergeBundle.js';
import type { StoreContext } from '../../store/storeContext.js';
import { publishBundles } from '../syncPublished.js';
import type { MergerLease, Transport } from '../transport.js';
import { throwLeaseLost } from './mergerLease.js';
import type { MergerRetry } from './mergerRetry.js';

/** Deltas landed per slice, and frames merged between publications, by a merger under a lease. */
const LAND_SLICE = 32;
const PUBLISH_EVERY = 32;
const PUBLISH_AFTER_MS = 1000;

/** One turn of the event loop (timers and I/O callbacks run), then a check that the lease still holds. */
async function turn(lease: MergerLease | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (lease?.lost.aborted) throwLeaseLost(lease);
}

/** The frames a merge would close now (above the last closed one, up to `through`), ascending. */
function pendingFrames(merger: Merger, through: number | undefined): number[] {
  const last = merger.state.frame ?? -1;
  const frames = new Set<number>();
  for (const { delta } of merger.scan().valid) if (delta.frame > last && (through === undefined || delta.frame <= through)) frames.add(delta.frame);
  return [...frames].sort((a, b) => a - b);
}

/** What the pipeline is told. */
export interface MergerPipelineOptions {
  through?: number;
  watch: boolean;
  now: () => number;
  keepPublished?: number;
  onMerge?: (record: MergeRecord) => void;
}

/** One merger's path of a delta: transport → inbox → merge → published → acknowledged. */
export interface MergerPipeline {
  /** Pulls what the transport has and lands it in the inbox (landing again is a no-op). */
  pullAndLand(): Promise<void>;
  /**
   * Merges (`frames`, or what is due), publishes the merges when a lease is held, then acknowledges
   * to the transport every delta whose inbox file has left the inbox. In watch mode a failure to
   * publish or acknowledge is reported and owed to the next turn.
   */
  mergeAndAck(frames?: number[]): Promise<MergeRecord[]>;
  /** Watch mode: settles an acknowledgement a failure left owed. */
  settleOwed(): Promise<void>;
  /** Every merge record written so far. */
  readonly records: MergeRecord[];
}

/**
 * Builds the pipeline over an open merger. A crash anywhere redelivers, and nothing is applied
 * twice: a delta is acknowledged only after the merge that took it committed (and was published).
 */
export function createMergerPipeline(ctx: StoreContext, transport: Transport, merger: Merger, lease: MergerLease | undefined, o: MergerPipelineOptions, retry: MergerRetry): MergerPipeline {
  const failover = lease ? transport.failover : undefined; // one capability: lease and published merges together
  const tap = failover ? createBundleTap(ctx) : undefined;
  /** Merges committed here and not yet published (published before their deltas are acknowledged). */
  const unpublished: MergeBundle[] = [];
  /** Landed but not yet merged: inbox name → transport ids to acknowledge once the file has left the inbox. */
  const unacked = new Map<string, string[]>();
  const records: MergeRecord[] = [];
  let ackOwed = false;
  let keptFrom = 0;

  /** Housekeeping after a publication: a failure is reported, and tried again with a later one. */
  const trimPublished = async (lastIndex: number): Promise<void> => {
    const keep = o.keepPublished;
    if (keep === undefined || !failover) return;
    const from = lastIndex - keep + 1;
    if (from - keptFrom < Math.max(1, Math.floor(keep / 8))) return;
    try {
      await failover.trimMerges(from);
      keptFrom = from;
    } catch (e) {
      retry.report(e);
    }
  };
  const ackTaken = async (): Promise<void> => {
    const lastIndex = unpublished.at(-1)?.index;
    if (failover && lease && unpublished.length > 0) await publishBundles(failover, unpublished, lease);
    const done: Array<[string, string[]]> = [];
    for (const [name, ids] of unacked) if (!existsSync(join(ctx.layout.inbox, name))) done.push([name, ids]);
    await transport.ack(done.flatMap(([, ids]) => ids));
    for (const [name] of done) unacked.delete(name);
    if (lastIndex !== undefined) await trimPublished(lastIndex);
  };

  return {
    records,
    async pullAndLand() {
      const arrivals = await transport.pull();
      // In slices, giving the event loop a turn between them: a lease is renewed by timers, and a
      // backlog landed in one go would stall them past its TTL.
      for (let from = 0; from < arrivals.length; from += LAND_SLICE) {
        if (from > 0) await turn(lease);
        const slice = arrivals.slice(from, from + LAND_SLICE);
        const landed = landDeltas(ctx, slice.map((a) => a.bytes));
        landed.forEach((l, i) => {
          const ids = unacked.get(l.name) ?? [];
          ids.push(slice[i].id);
          unacked.set(l.name, ids);
        });
      }
    },
    async mergeAndAck(frames) {
      if (lease?.lost.aborted) throwLeaseLost(lease);
      const mergeSome = (only?: number[]) =>
        merger.merge({
          through: o.through,
          frames: only,
          now: o.now,
          onCommit: (r) => {
            if (tap) unpublished.push(tap.take(r));
            transport.merger?.committed?.(r);
          },
        });
      const settle = async (): Promise<void> => {
        if (o.watch) ackOwed = !(await retry.tolerate(ackTaken));
        else await ackTaken();
      };
      const done: MergeRecord[] = [];
      const take = (rs: MergeRecord[]): void => {
        for (const r of rs) {
          done.push(r);
          records.push(r);
          o.onMerge?.(r);
        }
      };
      // A merger holding a lease merges a backlog frame by frame, with a turn of the event loop
      // between frames (the lease's renewals run) and a publication every PUBLISH_EVERY frames or
      // PUBLISH_AFTER_MS, so no stretch of synchronous work outlasts the lease. Without a lease
      // (one host) it merges in one call.
      const pending = lease ? (frames ?? pendingFrames(merger, o.through)) : undefined;
      if (!pending || pending.length <= 1) {
        take(mergeSome(frames));
        await settle();
        return done;
      }
      let since = Date.now();
      let sinceCount = 0;
      for (let i = 0; i < pending.length; i++) {
        if (i > 0) await turn(lease);
        take(mergeSome([pending[i]!]));
        if (++sinceCount >= PUBLISH_EVERY || Date.now() - since >= PUBLISH_AFTER_MS) {
          await settle();
          since = Date.now();
          sinceCount = 0;
        }
      }
      if (sinceCount > 0) await settle();
      return done;
    },
    async settleOwed() {
      if (ackOwed) ackOwed = !(await retry.tolerate(ackTaken));
    },
  };
}
