import type { Merger } from '../../store/openStore.js';
import type { StoreContext } from '../../store/storeContext.js';
import { createFrameReadiness } from '../../store/commit/frameReadiness.js';
import type { MergerLease, Transport } from '../transport.js';
import { throwLeaseLost } from './mergerLease.js';
import type { MergerPipeline } from './mergerPipeline.js';
import type { MergerRetry } from './mergerRetry.js';

/** What the watch loop is told. */
export interface WatchLoopOptions {
  signal?: AbortSignal;
  writers?: readonly string[];
  frameTimeoutMs?: number;
  pollMs: number;
  now: () => number;
}

/**
 * `merge --watch`: until `signal` aborts, each turn settles an owed acknowledgement, pulls and lands,
 * and merges the frames that are due (every expected writer seen, or the frame timeout passed);
 * idle, the journals catch up with the archive (`merger.flush`) and the loop sleeps until the
 * transport's wake-up, the next deadline or `pollMs`. A transport that fails is reported and tried
 * again next turn; a lost lease ends the loop with its error.
 */
export async function watchMergerLoop(ctx: StoreContext, transport: Transport, merger: Merger, pipeline: MergerPipeline, lease: MergerLease | undefined, o: WatchLoopOptions, retry: MergerRetry): Promise<void> {
  const readiness = createFrameReadiness(o.writers ?? ctx.plan.writers, o.frameTimeoutMs ?? ctx.plan.frameTimeoutMs, ctx.plan.quorum);
  const inner = new AbortController();
  let wake: (() => void) | undefined;
  const poke = (): void => wake?.();
  o.signal?.addEventListener('abort', poke);
  lease?.lost.addEventListener('abort', poke);
  transport.watch(poke, inner.signal);
  try {
    while (!o.signal?.aborted) {
      if (lease?.lost.aborted) throwLeaseLost(lease);
      await pipeline.settleOwed(); // an acknowledgement that failed earlier
      if (!(await retry.tolerate(() => pipeline.pullAndLand()))) {
        await new Promise((r) => setTimeout(r, o.pollMs));
        continue;
      }
      const d = readiness.decide(merger.scan(), merger.state.frame, o.now(), o.pollMs);
      if (d.due) {
        const records = await pipeline.mergeAndAck(d.frames);
        readiness.merged(merger.state.frame, records.length > 0);
        continue;
      }
      merger.flush(); // idle: the journals catch up with the archive
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, d.waitMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    inner.abort();
    o.signal?.removeEventListener('abort', poke);
    lease?.lost.removeEventListener('abort', poke);
  }
}
