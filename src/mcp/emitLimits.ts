import { McpRefusal } from './McpRefusal.js';

/** Limits on what one MCP session may write. */
export interface EmitLimits {
  /** Largest delta, in bytes of its JSON (default: the plan's `maxDeltaBytes`, at most 1 MiB). */
  maxDeltaBytes: number;
  /** Sustained writes per second per session (deltas and stream records; default 20). */
  perSecond: number;
  /** Writes a session may make at once before the rate applies (default 40). */
  burst: number;
}

/**
 * A per-session rate limit: a token bucket of `burst` writes refilled at `perSecond`. Only writes
 * that were made count: a call refused for its input costs nothing.
 */
export interface RateLimit {
  /** Throws {@link McpRefusal} saying the limit and when to retry when no write is left now. */
  check(what: string): void;
  /** Counts one write made. */
  spend(): void;
}

/** Creates a {@link RateLimit}. `now` is injectable for tests. */
export function createRateLimit(limits: Pick<EmitLimits, 'perSecond' | 'burst'>, now: () => number = Date.now): RateLimit {
  let tokens = limits.burst;
  let at = now();
  const refill = (): void => {
    const t = now();
    tokens = Math.min(limits.burst, tokens + ((t - at) / 1000) * limits.perSecond);
    at = t;
  };
  return {
    check(what) {
      refill();
      if (tokens < 1) {
        const waitMs = Math.ceil(((1 - tokens) / limits.perSecond) * 1000);
        throw new McpRefusal('', `${what} refused: rate limit of ${limits.perSecond} writes/s per session (burst ${limits.burst}) reached; retry in ${waitMs} ms`);
      }
    },
    spend() {
      refill();
      tokens -= 1;
    },
  };
}

/** Throws {@link McpRefusal} when `bytes` is over the session's delta size limit. */
export function checkSize(what: string, bytes: number, limits: Pick<EmitLimits, 'maxDeltaBytes'>): void {
  if (bytes > limits.maxDeltaBytes) throw new McpRefusal('', `${what} refused: ${bytes} bytes, over this server's limit of ${limits.maxDeltaBytes} bytes per write; split it`);
}
