import pg from 'pg';
import { FramelogError } from '../../errors.js';
import type { LeaseOptions, MergerLease, PublishedHead, PublishedMerge, Transport, Failover } from '../transport.js';
import { acquirePostgresLease } from './postgresLease.js';
import { publishedHead, publishMerges, readMergePage, trimPostgresMerges } from './postgresMerges.js';
import { postgresNames, type PostgresNames } from './postgresNames.js';
import { ackPulled, pullPending } from './postgresPull.js';
import { checkDeltaSizes, putDeltas, sendNotify } from './postgresPut.js';
import { coalescedNotify } from './coalescedNotify.js';
import { dropPostgresStore, ensurePostgresSchema, type PostgresServerFacts } from './postgresSchema.js';
import { listenForPuts } from './postgresWatch.js';
import { serialClient } from './serialClient.js';

/** The plan's own largest delta, the default of {@link PostgresTransportOptions.maxDeltaBytes}. */
export const POSTGRES_MAX_DELTA_BYTES = 64 * 1024 * 1024;
/** The largest `maxDeltaBytes` accepted: PostgreSQL keeps one field below 1 GiB, and a delta is also held as jsonb beside its bytes. */
const MAX_DELTA_LIMIT = 256 * 1024 * 1024;

/** Options of {@link openPostgresTransport}. */
export interface PostgresTransportOptions {
  /** A libpq-style connection URL: `postgres://user:password@host:5432/database?sslmode=…`. */
  url: string;
  /** The store's name (letters, digits, `_`, `-`; at most 54): everything lives in the schema `framelog_<store>`. */
  store: string;
  /** Largest delta `put` accepts, in bytes (default 64 MiB, the plan's own maximum; at most 256 MiB). */
  maxDeltaBytes?: number;
  /** `synchronous_commit` of the connections that put (default `on`; `remote_apply` with a synchronous standby). */
  synchronousCommit?: 'on' | 'remote_write' | 'remote_apply';
  /**
   * Fill the `body_json` column (jsonb of the bytes where PostgreSQL accepts them) for people who
   * query pending deltas (default true). Measured on a 2-core machine, it costs about a quarter of
   * the server's CPU per delta and a third of the WAL; `false` leaves it NULL.
   */
  bodyJson?: boolean;
  /**
   * Puts that follow each other without a pause send at most one wake-up notification per this
   * many ms (default 25; 0: every put notifies); the owed one goes out as soon as the writer pauses
   * (see `coalescedNotify`). A single put is always announced at once.
   */
  notifyEveryMs?: number;
  /** Rows per page when pulling (default 5000). */
  pageRows?: number;
  /** Bytes per page when pulling or reading merges (default 64 MiB; at least one row a page). */
  pageBytes?: number;
  /** Other settings of the connections (`ssl`, `password`…); `connectionString` is `url`. */
  connection?: Omit<pg.ClientConfig, 'connectionString'>;
  /**
   * Errors nobody awaits: an idle connection that broke (the next call reconnects), a LISTEN
   * connection that failed (it reconnects), a notification that failed after a put was stored.
   * Default: one line on stderr each.
   */
  onBackgroundError?: (error: unknown) => void;
}

/** The PostgreSQL transport, with failover (lease, published merges) always available. */
export interface PostgresTransport extends Transport {
  readonly store: string;
  /** The schema holding the store: `framelog_<store>`. */
  readonly schema: string;
  /** What an acknowledged put means on this server (read at open). */
  readonly durability: { onDiskWhenAcknowledged: boolean; summary: string };
  /** Failover is always available: the lease and the published merges. */
  readonly failover: Failover;
}

/** The URL without its password, for messages. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(an unparsable postgres URL)';
  }
}

const connectionOf = (o: { url: string; connection?: Omit<pg.ClientConfig, 'connectionString'> }): pg.ClientConfig => ({ ...o.connection, connectionString: o.url });

/**
 * Opens the PostgreSQL transport on `options.store`, creating its schema when missing (safe when
 * several processes open it at once). One connection per transport serves put, pull, ack and the
 * merges (opened at once, reopened when it breaks); `watch` and the lease each hold their own.
 *
 * Deltas: a table of pending copies, `body` bytea exactly as put (see `postgresSchemaDdl` for why
 * bytea and not text), keyed by `transportKey` (unique while pending; an acknowledged copy is
 * deleted, so putting it again stores it again). `pull` returns what this transport object has not
 * returned yet (after a restart, everything not acknowledged), `ack` deletes.
 *
 * Durability: `put` resolves after PostgreSQL answered the COMMIT of its insert. The put
 * connections run with `synchronous_commit = on` (or the option): PostgreSQL answers a commit only
 * once its WAL record is flushed to disk (fsync), and with `remote_apply` and a synchronous standby,
 * once the standby applied it too. A server run with `fsync = off` gives no durability at all,
 * whatever the session asks. A put whose answer was lost (connection broke) may or may not be
 * stored: putting the same deltas again is safe (a stored copy answers `duplicate: true`).
 */
export async function openPostgresTransport(options: PostgresTransportOptions): Promise<PostgresTransport> {
  const names = postgresNames(options.store);
  const where = `postgres transport (store ${names.store})`;
  const maxDeltaBytes = options.maxDeltaBytes ?? POSTGRES_MAX_DELTA_BYTES;
  if (!Number.isSafeInteger(maxDeltaBytes) || maxDeltaBytes < 1 || maxDeltaBytes > MAX_DELTA_LIMIT) {
    throw new FramelogError(`${where}: maxDeltaBytes ${maxDeltaBytes} is out of range (want 1 to ${MAX_DELTA_LIMIT})`, 'bad-argument');
  }
  for (const [k, v] of [['pageRows', options.pageRows], ['pageBytes', options.pageBytes]] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new FramelogError(`${where}: ${k} ${v} is not a positive integer`, 'bad-argument');
  }
  if (typeof options.url !== 'string' || options.url === '') throw new FramelogError(`${where}: url is missing (want postgres://user@host:5432/database)`, 'bad-argument');
  const report = options.onBackgroundError ?? ((e: unknown) => process.stderr.write(`framelog: ${where}: ${(e as Error).message}\n`));
  const connection = connectionOf(options);
  const commit = options.synchronousCommit ?? 'on';
  const main = serialClient({ ...connection, keepAlive: true, options: `${connection.options ?? ''} -c synchronous_commit=${commit}`.trim() }, report, where);
  let facts: PostgresServerFacts;
  try {
    facts = await main.run((c) => ensurePostgresSchema(c, names));
  } catch (e) {
    await main.close();
    throw new FramelogError(`${where}: cannot open the store at ${displayUrl(options.url)}: ${(e as Error).message.replace(`${where}: `, '')}`, 'postgres-unavailable');
  }
  const held = new Set<string>();
  const pull = { names, pageRows: options.pageRows ?? 5000, pageBytes: options.pageBytes ?? 64 * 1024 * 1024 };
  const put = { names, maxDeltaBytes, chunkBytes: 64 * 1024 * 1024, bodyJson: options.bodyJson ?? true, onNotifyError: report };
  const notifier = coalescedNotify({ everyMs: options.notifyEveryMs ?? 25, send: () => main.run((c) => sendNotify(c, names)).catch(report) });
  const ends = new Set<() => Promise<void>>();
  let closed = false;

  return {
    name: 'postgres',
    store: names.store,
    schema: names.schemaName,
    durability:
      facts.fsync === 'on'
        ? { onDiskWhenAcknowledged: true, summary: `a put is acknowledged once PostgreSQL flushed its commit to the WAL on disk (synchronous_commit = ${commit})` }
        : { onDiskWhenAcknowledged: false, summary: `PostgreSQL runs with fsync = ${facts.fsync}: an acknowledged put is not known to be on disk and can be lost if the server's machine crashes` },
    async put(deltas) {
      checkDeltaSizes(deltas, put); // before anything is queued or sent
      if (closed) throw new FramelogError(`${where}: put after close`, 'closed');
      const notify = notifier.claim();
      try {
        return await main.run((c) => putDeltas(c, deltas, { ...put, notify }));
      } finally {
        notifier.settled();
      }
    },
    pull: () => main.run((c) => pullPending(c, held, pull)),
    ack: (ids) => main.run((c) => ackPulled(c, names, held, ids)),
    watch(onArrival, signal) {
      if (closed) throw new FramelogError(`${where}: watch after close`, 'closed');
      const stop = listenForPuts(onArrival, signal, { connection, names, onError: report });
      ends.add(stop);
      signal.addEventListener('abort', () => ends.delete(stop), { once: true });
    },
    failover: {
      async acquireLease(lease) {
        if (closed) throw new FramelogError(`${where}: acquireLease after close`, 'closed');
        return acquirePostgresLease(lease, { connection, names, track: (e) => ends.add(e), untrack: (e) => ends.delete(e) });
      },
      publishMerges: (merges, lease) => main.run((c) => publishMerges(c, names, merges, lease)),
      publishedHead: () => main.run((c) => publishedHead(c, names)),
      readMerges: (fromIndex) => readMerges(main.run, names, fromIndex, pull.pageBytes),
      trimMerges: (keepFromIndex) => main.run((c) => trimPostgresMerges(c, names, keepFromIndex)),
    },
    async close() {
      if (closed) return;
      closed = true;
      const all = [...ends];
      ends.clear();
      await notifier.flush(); // the last puts' wake-up, if it was still owed
      await Promise.all([main.close(), ...all.map((e) => e())]);
    },
  };
}

/** The published merges from `fromIndex` on, a page at a time (100 merges or `pageBytes`). */
async function* readMerges(run: ReturnType<typeof serialClient>['run'], names: PostgresNames, fromIndex: number, pageBytes: number): AsyncIterable<PublishedMerge> {
  let next = Math.max(1, Math.floor(fromIndex));
  for (;;) {
    const page = await run((c) => readMergePage(c, names, next, 100, pageBytes));
    if (page.length === 0) return;
    yield* page;
    next = page.at(-1)!.index + 1;
  }
}

/** Drops a store's schema: its pending deltas, published merges and lease (tests, benches, `transport drop`). */
export async function dropPostgresTransportStore(options: Pick<PostgresTransportOptions, 'url' | 'store' | 'connection'>): Promise<void> {
  const names = postgresNames(options.store);
  const c = new pg.Client(connectionOf(options));
  await c.connect();
  try {
    await dropPostgresStore(c, names);
  } finally {
    await c.end();
  }
}
