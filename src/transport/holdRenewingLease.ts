import { FramelogError } from '../errors.js';
import type { MergerLease } from './transport.js';

/** One engine's side of a lease it has acquired: how to renew it and how to give it up. */
export interface LeaseRenewal {
  /**
   * Proves the lease is still this holder's and extends it. Resolves `undefined` when confirmed, or
   * a sentence saying why the lease is gone for good (another holder, an expired key); rejects when
   * the engine could not be asked.
   */
  renew(): Promise<string | undefined>;
  /**
   * Whether a rejected renewal is tried again (every `retryEveryMs`, until the deadline): true for
   * failures a leader election or a reconnect explains. Absent: any failure loses the lease at once.
   */
  retryable?(error: unknown): boolean;
  /** Gives the lease up on the engine; called at most once, after renewals stopped, never after a loss. */
  release(): Promise<void>;
  /** Called once when the lease is lost, after `lost` aborted (e.g. ends a dedicated connection). */
  onLost?(): void;
}

/** How {@link holdRenewingLease} keeps a lease. */
export interface RenewalTiming {
  /** Fencing token the engine gave this holder. */
  token: number;
  holder: string;
  /** Names the lease in the loss message, e.g. `redis lease fl:s:lease (token 3)`. */
  name: string;
  /** Pause between a confirmed renewal and the next one (the engines use `ttlMs / 3`). */
  renewEveryMs: number;
  /** Pause before trying a retryable failure again (default `renewEveryMs / 3`). */
  retryEveryMs?: number;
  /**
   * The lease is lost when no renewal sent within this long before now was confirmed: choose it
   * below the engine's own expiry, so the holder knows before another can take over.
   */
  confirmWithinMs: number;
  /** When the acquisition that gave the lease was sent (epoch ms): the first confirmation. */
  acquiredAt: number;
}

/** A lease kept by {@link holdRenewingLease}; `lose` ends it from outside (e.g. the transport closes). */
export interface RenewingLease extends MergerLease {
  lose(why: string): void;
}

/**
 * Keeps an acquired lease renewed until it is released or lost — the one renewal loop of the
 * PostgreSQL, Redis and NATS leases. A renewal is sent `renewEveryMs` after the last one was
 * confirmed (never two at once). `lost` aborts, with a {@link FramelogError} `lease-lost` naming
 * `name` and why, when a renewal says the lease is gone, when a renewal fails and the failure is
 * not retryable, or when no renewal sent in the last `confirmWithinMs` was confirmed (a deadline
 * timer, so a renewal that hangs is noticed too). Timers are unref'd: a held lease keeps no process
 * alive. A merger whose event loop stalls longer than `confirmWithinMs` finds `lost` aborted on its
 * next turn; the fencing token stops what it would publish meanwhile.
 */
export function holdRenewingLease(t: RenewalTiming, engine: LeaseRenewal): RenewingLease {
  const lost = new AbortController();
  const retryEveryMs = t.retryEveryMs ?? Math.max(10, Math.floor(t.renewEveryMs / 3));
  let over = false;
  let renewTimer: ReturnType<typeof setTimeout> | undefined;
  let deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  const stop = (): void => {
    over = true;
    clearTimeout(renewTimer);
    clearTimeout(deadlineTimer);
  };
  const lose = (why: string): void => {
    if (over) return;
    stop();
    lost.abort(new FramelogError(`${t.name} lost: ${why}`, 'lease-lost'));
    engine.onLost?.();
  };
  const confirmed = (sentAt: number): void => {
    clearTimeout(deadlineTimer);
    deadlineTimer = setTimeout(() => lose(`no renewal confirmed within ${t.confirmWithinMs} ms`), Math.max(0, sentAt + t.confirmWithinMs - Date.now()));
    deadlineTimer.unref();
  };
  const schedule = (ms: number): void => {
    renewTimer = setTimeout(renew, ms);
    renewTimer.unref();
  };
  function renew(): void {
    if (over) return;
    const sentAt = Date.now();
    engine.renew().then(
      (gone) => {
        if (over) return;
        if (gone !== undefined) return lose(gone);
        confirmed(sentAt);
        schedule(t.renewEveryMs);
      },
      (e: unknown) => {
        if (over) return;
        if (engine.retryable?.(e)) return schedule(retryEveryMs);
        lose(`renewal failed (${(e as Error).message})`);
      },
    );
  }

  confirmed(t.acquiredAt);
  schedule(t.renewEveryMs);
  return {
    token: t.token,
    holder: t.holder,
    lost: lost.signal,
    lose,
    async release() {
      if (over) return;
      stop();
      await engine.release();
    },
  };
}
