import { watch, type FSWatcher } from 'node:fs';
import type { MergeRecord } from '../merge/records.js';
import { openMergerOn } from './openStore.js';
import type { StoreContext } from './storeContext.js';

/** Options of {@link watchMerges}. */
export interface WatchOptions {
  /** Stops the loop between merges. */
  signal?: AbortSignal;
  /** Writers expected every frame (default: the plan's `writers`). */
  writers?: readonly string[];
  /** Close a frame this long after its first delta arrived (default: the plan's `frameTimeoutMs`). */
  frameTimeoutMs?: number;
  /** Fallback polling interval when file-system events are missed (default 250 ms). */
  pollMs?: number;
  /** Called after each merge commits. */
  onMerge?: (record: MergeRecord) => void;
  /** The clock (epoch ms). */
  now?: () => number;
}

/**
 * A merger that keeps running (`framelog merge --watch`, PROTOCOL §3): it closes a frame once
 * every expected writer has a delta (or fallback) for it, or once `frameTimeoutMs` has passed since
 * its first delta arrived — never a barrier that waits forever. Frames close in ascending order;
 * late deltas join the next merge (or, when nothing else is pending, close one of their own after
 * four timeouts). It wakes on inbox
 * events with a polling fallback, holds the merger lock throughout and stops between merges when
 * `signal` aborts.
 */
export async function watchMerges(ctx: StoreContext, opts: WatchOptions = {}): Promise<void> {
  const now = opts.now ?? Date.now;
  const writers = opts.writers ?? ctx.plan.writers;
  const timeout = opts.frameTimeoutMs ?? ctx.plan.frameTimeoutMs;
  const merger = openMergerOn(ctx);
  const firstSeen = new Map<number, number>();
  let lateSince: number | undefined;
  let badSince: number | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => wake?.();
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(ctx.layout.inbox, { persistent: false }, poke);
    watcher.on('error', () => { watcher?.close(); watcher = undefined; }); // polling still runs
  } catch {
    watcher = undefined;
  }
  opts.signal?.addEventListener('abort', poke);
  try {
    while (!opts.signal?.aborted) {
      const last = merger.state.frame ?? -1;
      const scan = merger.scan();
      const t = now();
      const reporters = new Map<number, Set<string>>();
      let late = false;
      for (const { delta } of scan.valid) {
        if (delta.frame <= last) {
          late = true;
          continue;
        }
        if (!firstSeen.has(delta.frame)) firstSeen.set(delta.frame, t);
        let s = reporters.get(delta.frame);
        if (!s) reporters.set(delta.frame, (s = new Set()));
        s.add(delta.writer);
      }
      if (late) lateSince ??= t;
      else lateSince = undefined;
      if (scan.bad.length > 0) badSince ??= t;
      else badSince = undefined;
      const ready: number[] = [];
      for (const f of [...reporters.keys()].sort((a, b) => a - b)) {
        const all = writers.length > 0 && writers.every((w) => reporters.get(f)!.has(w));
        if (all || t - firstSeen.get(f)! >= timeout) ready.push(f);
        else break; // frames close in order: a later complete frame waits for this one
      }
      // Late deltas join the next merge; alone they close a frame only once nothing else is
      // pending and they have waited four timeouts (closing a frame early makes on-time deltas late).
      const lateDue = lateSince !== undefined && reporters.size === 0 && t - lateSince >= 4 * timeout;
      // Bad files wait for the next merge, whose record lists them; alone, for one timeout at most.
      const badDue = badSince !== undefined && t - badSince >= timeout;
      if (ready.length > 0 || lateDue || badDue) {
        const records = merger.merge({ frames: ready, now });
        for (const r of records) {
          firstSeen.delete(r.frame);
          opts.onMerge?.(r);
        }
        for (const f of [...firstSeen.keys()]) if (f <= (merger.state.frame ?? -1)) firstSeen.delete(f);
        if (records.length > 0) lateSince = undefined;
        badSince = undefined;
        continue;
      }
      const nextDeadline = Math.min(
        ...[...firstSeen.values()].map((s) => s + timeout - t),
        lateSince !== undefined ? lateSince + 4 * timeout - t : Infinity,
        badSince !== undefined ? badSince + timeout - t : Infinity,
        opts.pollMs ?? 250,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, nextDeadline));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    watcher?.close();
    opts.signal?.removeEventListener('abort', poke);
    merger.close();
  }
}
