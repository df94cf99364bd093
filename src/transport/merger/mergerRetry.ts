import { isFatal } from '../../errors.js';

/** How a merger meets transport failures: see {@link createMergerRetry}. */
export interface MergerRetry {
  /**
   * Runs `fn`; in watch mode a failure that is not fatal (the engine restarting, a leader election)
   * is reported and `fn` is tried again after `pollMs`. Resolves `undefined` when the merger was
   * stopped meanwhile; throws fatal errors, and every error in one-shot mode.
   */
  retrying<T>(fn: () => Promise<T>): Promise<T | undefined>;
  /** Runs `fn` once: true when it succeeded; a failure that is not fatal is reported and gives false. */
  tolerate(fn: () => Promise<void>): Promise<boolean>;
  /** Reports an error that the merger survives. */
  report(error: unknown): void;
}

/**
 * The merger's retry policy. What is fatal comes from the error table (`isFatal`: another merger
 * holds the history now, or the store needs a person); everything else is a transport that may
 * come back.
 */
export function createMergerRetry(o: { watch: boolean; signal?: AbortSignal; pollMs: number; report: (error: unknown) => void }): MergerRetry {
  return {
    report: o.report,
    async retrying<T>(fn: () => Promise<T>): Promise<T | undefined> {
      for (;;) {
        try {
          return await fn();
        } catch (e) {
          if (o.signal?.aborted) return undefined;
          if (!o.watch || isFatal(e)) throw e;
          o.report(e);
          await new Promise((r) => setTimeout(r, o.pollMs));
        }
      }
    },
    async tolerate(fn: () => Promise<void>): Promise<boolean> {
      try {
        await fn();
        return true;
      } catch (e) {
        if (isFatal(e)) throw e;
        o.report(e);
        return false;
      }
    },
  };
}
