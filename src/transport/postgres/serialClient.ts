import pg from 'pg';
import { FramelogError } from '../../errors.js';

/** One connection, used by one operation at a time, replaced when it breaks. */
export interface SerialClient {
  /** Runs `fn` with the connection (connecting first when there is none), after every operation queued before it. */
  run<T>(fn: (client: pg.Client) => Promise<T>): Promise<T>;
  /** Ends the connection once the queued operations are done; later `run`s fail. Idempotent. */
  close(): Promise<void>;
}

/** Wraps an engine or network error as a one-line FramelogError `postgres-error` naming where it happened (the original is its `cause`). */
export function postgresError(what: string, e: unknown): FramelogError {
  if (e instanceof FramelogError) return e;
  const sqlstate = (e as { code?: unknown }).code;
  const err = new FramelogError(`${what}: ${String((e as Error).message ?? e).split('\n')[0]}${typeof sqlstate === 'string' ? ` (${sqlstate})` : ''}`, 'postgres-error');
  err.cause = e;
  return err;
}

/**
 * A lazily opened, pipelining connection (`pipeline: true`: queries issued together go out
 * together, each in its own implicit transaction) whose operations run one after another. A
 * connection that fails is dropped (its error reaches the operation that was running, or
 * `onIdleError` when none was) and the next operation opens a new one. Errors other than
 * FramelogErrors reach the caller as {@link postgresError}s.
 */
export function serialClient(config: pg.ClientConfig, onIdleError: (error: unknown) => void, what: string): SerialClient {
  let client: Promise<pg.Client> | undefined;
  let busy = false;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const open = (): Promise<pg.Client> => {
    const c = new pg.Client({ ...config, pipeline: true });
    const opened = c.connect().then(() => c);
    const broken = (e: unknown): void => {
      if (client === opened) client = undefined;
      c.end().catch(() => undefined); // the socket is already gone; ending only frees the object
      if (!busy && !closed) onIdleError(e);
    };
    c.on('error', broken);
    c.on('end', () => {
      if (client === opened) client = undefined;
    });
    opened.catch(() => {
      if (client === opened) client = undefined;
    });
    return opened;
  };

  return {
    run(fn) {
      if (closed) return Promise.reject(new FramelogError(`${what}: used after close`, 'closed'));
      const go = async (): Promise<Awaited<ReturnType<typeof fn>>> => {
        client ??= open();
        const c = await client;
        busy = true;
        try {
          return await fn(c);
        } finally {
          busy = false;
        }
      };
      const wrapped = (): Promise<Awaited<ReturnType<typeof fn>>> => go().catch((e: unknown) => Promise.reject(postgresError(what, e)));
      const p = queue.then(wrapped, wrapped);
      queue = p.catch(() => undefined); // the caller gets the error through `p`; the queue only orders
      return p;
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      const c = client;
      client = undefined;
      if (c) await (await c.catch(() => undefined))?.end();
    },
  };
}
