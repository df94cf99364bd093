/** Decides which puts carry the wake-up notification, and sends the ones owed by the others. */
export interface CoalescedNotify {
  /**
   * Called for each put before it is queued: true when this put should send the notification
   * itself (none was sent for `everyMs`); otherwise the notification is owed and a trailing one is
   * scheduled `everyMs` after the last, queued behind the puts made meanwhile.
   */
  claim(): boolean;
  /** Called when a claimed put is done (stored or failed): an owed notification goes out as soon as no put follows at once. */
  settled(): void;
  /** Sends an owed notification now (before closing); a no-op when none is owed. */
  flush(): Promise<void>;
}

/** Options of {@link coalescedNotify}. */
export interface CoalescedNotifyOptions {
  /** While puts follow each other without a pause, at most one notification per this many ms (0: every put notifies). */
  everyMs: number;
  /** Sends one notification, queued behind every put already queued on the same connection. */
  send(): Promise<void>;
  now?: () => number;
}

/**
 * Coalesces the notifications of back-to-back puts. A notification only wakes the merger (which
 * then pulls everything committed), so one now and then wakes it as well as one per put. A put
 * sends one itself when none went out for `everyMs`; otherwise it is owed, and goes out as soon as
 * the writer pauses (no next put was started by the time the event loop turns, so a writer that
 * waits for anything, or stops, is announced at once) or, in a long stream of puts, `everyMs`
 * after the last one. Each notification is a transaction of its own on the server; puts of 100
 * small deltas back to back spend about a sixth of their CPU (client and server) on them when
 * every put sends one.
 */
export function coalescedNotify(o: CoalescedNotifyOptions): CoalescedNotify {
  const now = o.now ?? Date.now;
  let last = -Infinity;
  let owed = false;
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();
  let pending = 0;

  const sendOwed = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (!owed) return sending;
    owed = false;
    last = now();
    sending = o.send();
    return sending;
  };

  return {
    claim() {
      pending++;
      const t = now();
      if (t - last >= o.everyMs) {
        last = t;
        return true;
      }
      owed = true;
      timer ??= setTimeout(() => void sendOwed(), Math.max(0, last + o.everyMs - t)).unref();
      return false;
    },
    settled() {
      pending--;
      if (owed && pending === 0) {
        setImmediate(() => {
          if (owed && pending === 0) void sendOwed();
        });
      }
    },
    flush: sendOwed,
  };
}
