import pg from 'pg';
import { FramelogError } from '../../errors.js';
import type { PostgresNames } from './postgresNames.js';
import { postgresError } from './serialClient.js';

/** Options of {@link listenForPuts}. */
export interface ListenSettings {
  connection: pg.ClientConfig;
  names: PostgresNames;
  /** Reports a lost or failed listening connection (it is reconnected after `retryMs`). */
  onError: (error: unknown) => void;
  /** First delay before reconnecting (default 500 ms; doubled after each failure, up to 5 s). */
  retryMs?: number;
}

/**
 * Keeps a dedicated connection `LISTEN`ing on the store's channel and calls `onArrival` on every
 * notification (puts notify at commit), until `signal` aborts. A connection that fails is reported
 * and replaced after `retryMs` (growing while the server stays away); `onArrival` is then called once, since notifications sent while no
 * one listened are lost (the merger also polls, so nothing waits longer than its poll interval).
 * Returns what stops it at once (as the abort does).
 */
export function listenForPuts(onArrival: () => void, signal: AbortSignal, o: ListenSettings): () => Promise<void> {
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let connecting: Promise<void> = Promise.resolve();
  let retryMs = o.retryMs ?? 500;

  const drop = (c: pg.Client): Promise<void> => c.end().catch(() => undefined); // ending a broken connection can only fail; it is gone either way

  const connect = async (reconnect: boolean): Promise<void> => {
    const c = new pg.Client({ ...o.connection, keepAlive: true });
    client = c;
    const failed = (e: unknown): void => {
      if (client !== c) return;
      client = undefined;
      void drop(c);
      if (stopped) return;
      o.onError(postgresError(`postgres transport (store ${o.names.store}): the LISTEN connection failed, reconnecting in ${retryMs} ms`, e));
      timer = setTimeout(() => void (connecting = connect(true)), retryMs);
      retryMs = Math.min(5000, retryMs * 2);
    };
    c.on('error', failed);
    c.on('end', () => failed(new FramelogError('PostgreSQL: the LISTEN connection ended', 'postgres-unavailable')));
    c.on('notification', () => {
      if (!stopped) onArrival();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${o.names.channel}`);
    } catch (e) {
      failed(e);
      return;
    }
    if (stopped) {
      client = undefined;
      await drop(c);
      return;
    }
    retryMs = o.retryMs ?? 500;
    if (reconnect) onArrival();
  };

  const stop = async (): Promise<void> => {
    if (stopped) return connecting;
    stopped = true;
    clearTimeout(timer);
    await connecting;
    const c = client;
    client = undefined;
    if (c) await drop(c);
  };
  if (signal.aborted) return stop;
  signal.addEventListener('abort', () => void stop(), { once: true });
  connecting = connect(false);
  return stop;
}
