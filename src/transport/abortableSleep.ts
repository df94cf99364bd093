/**
 * Waits `ms`, or rejects with the signal's own reason (not an AbortError wrapping it) as soon as
 * `signal` aborts: what a merger waiting for a lease needs, so the error that stopped it is the one
 * it reports.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
