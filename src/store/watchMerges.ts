import { watch, type FSWatcher } from 'node:fs';
import type { MergeRecord } from '../merge/records.js';
import { openMergerOn } from './openStore.js';
import { createFrameReadiness } from './frameReadiness.js';
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
  const readiness = createFrameReadiness(writers, timeout);
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
      const decision = readiness.decide(merger.scan(), merger.state.frame, now(), opts.pollMs ?? 250);
      if (decision.due) {
        const records = merger.merge({ frames: decision.frames, now });
        for (const r of records) opts.onMerge?.(r);
        readiness.merged(merger.state.frame, records.length > 0);
        continue;
      }
      merger.flush(); // idle: the journals catch up with the archive
      const nextDeadline = decision.waitMs;
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
