import pg from 'pg';
import { FramelogError } from '../../errors.js';
import type { LeaseOptions, MergerLease } from '../transport.js';
import type { PostgresNames } from './postgresNames.js';
import { postgresError } from './serialClient.js';
import { abortableSleep as sleep } from '../abortableSleep.js';
import { holdRenewingLease, type RenewingLease } from '../holdRenewingLease.js';

/** What {@link acquirePostgresLease} needs besides the caller's options. */
export interface LeaseSettings {
  connection: pg.ClientConfig;
  names: PostgresNames;
  /** Registers what ends this lease (or the wait for it) when the transport closes. */
  track(end: () => Promise<void>): void;
  untrack(end: () => Promise<void>): void;
}

/**
 * Waits until this merger holds the store's lease, then keeps it until `release`, the transport's
 * close, or its loss.
 *
 * The lease is a PostgreSQL session-level advisory lock (`pg_try_advisory_lock` on a key derived
 * from the store name) held by a dedicated connection: whoever holds it is the merger. Waiting
 * mergers try every `ttlMs / 4`, calling `onWait` with the holder written in the `lease` row. On
 * acquiring, the lease row gets `token = nextval(fence_seq)`: a fencing token strictly greater
 * for every new holder, which `publishMerges` compares under a row lock.
 *
 * Renewal ({@link holdRenewingLease}): `ttlMs / 3` after each confirmed renewal the connection
 * proves it still holds the lock (`pg_locks` for its own backend) and that the row still carries
 * its token; a failure (the query times out after `ttlMs / 3`), a wrong answer, or no renewal sent
 * in the last `ttlMs` confirmed (the server ends an idle session no sooner) aborts `lost`
 * (FramelogError `lease-lost`) and closes the connection.
 *
 * How a dead holder is replaced: the lock lives as long as the holder's session.
 * - Killed process (SIGKILL, crash): its kernel closes the socket, PostgreSQL ends the session at
 *   once and a waiter takes over at its next try (within `ttlMs / 4`).
 * - Frozen process or network partition: the session sets `idle_session_timeout = ttlMs`, so
 *   PostgreSQL ends a session that sent nothing for `ttlMs` (a live holder renews every
 *   `ttlMs / 3`), plus TCP keepalives and `tcp_user_timeout` so a dead peer is noticed on the
 *   server side too; the holder's own renewal gives up after at most `ttlMs` from its last
 *   confirmed renewal's sending, before the server can free the lock. A holder that nevertheless acts after its lease passed on (a stalled
 *   event loop longer than `ttlMs`, e.g. a synchronous merge: choose `ttlMs` above the longest one)
 *   is stopped by the fencing token: its `publishMerges` fails with `lease-lost` and writes nothing.
 */
export async function acquirePostgresLease(options: LeaseOptions, s: LeaseSettings): Promise<MergerLease> {
  const { holder, ttlMs, signal, onWait } = options;
  const where = `postgres transport (store ${s.names.store})`;
  if (!Number.isFinite(ttlMs) || ttlMs < 300) throw new FramelogError(`${where}: lease ttlMs ${ttlMs} is too short (want ≥ 300 ms)`, 'bad-argument');
  const renewMs = Math.floor(ttlMs / 3);
  const pollMs = Math.max(20, Math.floor(ttlMs / 4));
  const keepSec = Math.max(1, Math.floor(ttlMs / 3000));
  const client = new pg.Client({
    ...s.connection,
    keepAlive: true,
    keepAliveInitialDelayMillis: keepSec * 1000,
    query_timeout: renewMs,
    // Session settings in the startup packet: no round trip, and they hold from the first query on.
    options: [
      `-c idle_session_timeout=${Math.round(ttlMs)}`,
      `-c statement_timeout=${renewMs}`,
      `-c tcp_keepalives_idle=${keepSec}`,
      `-c tcp_keepalives_interval=1`,
      `-c tcp_keepalives_count=3`,
      `-c tcp_user_timeout=${Math.round(ttlMs)}`,
      `-c application_name=framelog-lease`,
    ].join(' '),
  });
  /** Aborted by the transport's close while this merger still waits. */
  const closing = new AbortController();
  const stop = signal ? AbortSignal.any([signal, closing.signal]) : closing.signal;
  let token = '';
  let ended = false;
  let held: RenewingLease | undefined;

  const end = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    s.untrack(endByClose);
    await client.end().catch(() => undefined); // a broken connection has nothing left to end; its session (and lock) is gone
  };
  const lose = (why: string): void => {
    if (held) held.lose(why);
    else void end();
  };
  const endByClose = async (): Promise<void> => {
    closing.abort(new FramelogError(`${where}: the transport was closed while ${holder} waited for the lease`, 'closed'));
    lose('the transport was closed');
    await end();
  };
  s.track(endByClose);
  client.on('error', (e) => lose(`the lease connection failed (${e.message})`));
  client.on('end', () => lose('the lease connection ended'));

  let acquiredAt = 0;
  try {
    await client.connect();
    for (;;) {
      stop.throwIfAborted();
      acquiredAt = Date.now();
      const r = await client.query<{ got: boolean; holder: string | null }>(`SELECT pg_try_advisory_lock($1::bigint) AS got, (SELECT holder FROM ${s.names.schema}.lease WHERE id = 1) AS holder`, [s.names.leaseLockKey]);
      if (r.rows[0].got) break;
      onWait?.(r.rows[0].holder ?? 'unknown (a lease holder that has not written its name yet)');
      await sleep(pollMs, stop);
    }
    const t = await client.query<{ token: string }>(`UPDATE ${s.names.schema}.lease SET token = nextval('${s.names.schema}.fence_seq'), holder = $1, since = now() WHERE id = 1 RETURNING token::text`, [holder]);
    token = t.rows[0].token;
  } catch (e) {
    ended = true;
    s.untrack(endByClose);
    await client.end().catch(() => undefined); // the acquisition's own error is the one to report
    if (stop.aborted) throw stop.reason;
    throw postgresError(`${where}: acquiring the lease for ${holder}`, e);
  }

  held = holdRenewingLease(
    { token: Number(token), holder, name: `${where}: lease of ${holder} (token ${token})`, renewEveryMs: renewMs, confirmWithinMs: ttlMs, acquiredAt },
    {
      async renew() {
        const r = await client.query<{ held: number; token: string | null }>(
          `SELECT (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() AND objsubid = 1
                     AND ((classid::bigint << 32) | objid::bigint) = $1::bigint) AS held,
                  (SELECT token::text FROM ${s.names.schema}.lease WHERE id = 1) AS token`,
          [s.names.leaseLockKey],
        );
        const row = r.rows[0];
        if (row.held !== 1) return 'the advisory lock is no longer held by this session';
        if (row.token !== token) return `the lease row carries token ${row.token} now`;
        return undefined;
      },
      onLost: () => void end(),
      async release() {
        ended = true; // an error or end of the connection from here on is no loss
        try {
          await client.query(`UPDATE ${s.names.schema}.lease SET holder = NULL WHERE id = 1 AND token = $1::bigint`, [token]);
          await client.query(`SELECT pg_advisory_unlock($1::bigint)`, [s.names.leaseLockKey]);
        } catch (e) {
          throw postgresError(`${where}: releasing the lease of ${holder}`, e);
        } finally {
          s.untrack(endByClose);
          await client.end();
        }
      },
    },
  );
  return held;
}
