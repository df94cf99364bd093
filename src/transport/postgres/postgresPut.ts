import { isUtf8 } from 'node:buffer';
import type pg from 'pg';
import { FramelogError } from '../../errors.js';
import type { PutOutcome } from '../transport.js';
import { parseTransportKey, transportKey } from '../transportKey.js';
import type { PostgresNames } from './postgresNames.js';

/** How `body_json` is filled for one delta: NULL, a plain cast, or the cast that turns a rejection into NULL. */
export const JsonMode = { None: 0, Cast: 1, Try: 2 } as const;
/** One of {@link JsonMode}'s values. */
export type JsonMode = (typeof JsonMode)[keyof typeof JsonMode];

/** Escapes jsonb refuses (`\u0000`) or may refuse (a surrogate half); a cheap over-approximation. */
const RISKY_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

/**
 * Decides on the client how the server fills `body_json` for these bytes: `None` when they are not
 * UTF-8 or not JSON (jsonb would refuse them too), `Try` when the text holds an escape jsonb may
 * refuse (the server then tries, catching the refusal), `Cast` otherwise. `parsed`: the caller
 * already knows the bytes parse as JSON once decoded (`transportKey` found an identity in them),
 * which spares a second parse.
 */
export function jsonMode(bytes: Uint8Array, parsed = false): JsonMode {
  if (!isUtf8(bytes)) return JsonMode.None;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!parsed) {
    try {
      JSON.parse(buf.toString('utf8'));
    } catch {
      return JsonMode.None;
    }
  }
  if (buf.indexOf('\\u') === -1) return JsonMode.Cast;
  return RISKY_ESCAPE.test(buf.toString('utf8')) ? JsonMode.Try : JsonMode.Cast;
}

/** One delta ready to insert. */
interface Row {
  key: string;
  bytes: Uint8Array;
  mode: JsonMode;
  writer: string | null;
  frame: string | null;
}

/**
 * The insert of one chunk, one statement: the bodies travel as ONE binary bytea parameter (no hex
 * text), cut on the server by offset and length. `onConflict`: `ON CONFLICT (key) DO NOTHING
 * RETURNING key` skips a key already pending and names what was stored; without it, a pending key
 * fails the whole statement with a unique violation (the fast path: a plain insert skips the
 * speculative insertion, an extra index probe and WAL record per row).
 */
function insertSql(s: string, onConflict: boolean): string {
  return `INSERT INTO ${s}.deltas (key, body, body_json, writer, frame)
SELECT u.k, u.b, CASE u.m WHEN 1 THEN convert_from(u.b, 'UTF8')::jsonb WHEN 2 THEN ${s}.try_jsonb(u.b) END, u.w, u.f
FROM (SELECT x.k, substring($2::bytea FROM x.o FOR x.l) AS b, x.m, x.w, x.f
      FROM unnest($1::text[], $3::int[], $4::int[], $5::int[], $6::text[], $7::bigint[]) AS x(k, o, l, m, w, f)
      OFFSET 0) u${onConflict ? '\nON CONFLICT (key) DO NOTHING\nRETURNING key' : ''}`;
}

/** The parameters of {@link insertSql} for `rows`; every `Cast` becomes `Try` when `tryAll`. */
function insertValues(rows: Row[], tryAll: boolean): unknown[] {
  const bodies = Buffer.concat(rows.map((r) => r.bytes));
  const offsets: number[] = [];
  let at = 1;
  for (const r of rows) {
    offsets.push(at);
    at += r.bytes.byteLength;
  }
  return [
    rows.map((r) => r.key),
    bodies,
    offsets,
    rows.map((r) => r.bytes.byteLength),
    rows.map((r) => (tryAll && r.mode === JsonMode.Cast ? JsonMode.Try : r.mode)),
    rows.map((r) => r.writer),
    rows.map((r) => r.frame),
  ];
}

/** A jsonb cast refused the text (data exception, or nesting too deep): the insert is tried again with `try_jsonb`. */
const isJsonRefusal = (e: unknown): boolean => {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code === '54001');
};

/** Sends the store's wake-up notification, a transaction of its own (queued behind what the connection already carries). */
export async function sendNotify(client: pg.ClientBase, names: PostgresNames): Promise<void> {
  await client.query({ name: 'framelog_notify', text: `SELECT pg_notify($1, '')`, values: [names.channelName] });
}

/** Throws FramelogError `too-large` naming the first delta over `o.maxDeltaBytes` (its index, size and the limit). */
export function checkDeltaSizes(deltas: Uint8Array[], o: Pick<PutSettings, 'names' | 'maxDeltaBytes'>): void {
  deltas.forEach((d, i) => {
    if (d.byteLength > o.maxDeltaBytes) {
      throw new FramelogError(`postgres transport (store ${o.names.store}): delta #${i} is ${d.byteLength} bytes, over the limit of ${o.maxDeltaBytes} bytes (maxDeltaBytes); nothing of this put was stored`, 'too-large');
    }
  });
}

/** Options of {@link putDeltas}. */
export interface PutSettings {
  names: PostgresNames;
  maxDeltaBytes: number;
  /** Chunks of at most this many body bytes per statement (at least one delta each). */
  chunkBytes: number;
  /** Fill `body_json` (false: it stays NULL, sparing the server a jsonb parse per delta). */
  bodyJson: boolean;
  /** Send the wake-up notification behind the insert (false: a trailing one is owed, see `coalescedNotify`). */
  notify: boolean;
  /** A notification that failed after the deltas were stored (the put still succeeds: the merger also polls). */
  onNotifyError: (error: unknown) => void;
}

/**
 * Refuses the whole put (FramelogError `too-large`, nothing sent) when a delta exceeds the limit;
 * otherwise inserts the deltas, and resolves once PostgreSQL committed them. A put that fits one
 * chunk is one statement in its own implicit transaction (when `o.notify`, pipelined with a
 * `pg_notify` in a second transaction, both in one write): one round trip, committed (with
 * `synchronous_commit = on`, flushed to the WAL) before the answer comes back. A larger put runs its chunks in one explicit transaction. The outcome of
 * each delta: `id` = its key, `duplicate` = a copy of the same key was already pending (or came
 * earlier in this same call).
 *
 * The first try is a plain insert (copies repeated within the call are left out on the client);
 * when a key is already pending, PostgreSQL refuses it as a whole (unique violation, nothing
 * stored) and the put is sent again with `ON CONFLICT DO NOTHING RETURNING key`. Re-puts are rare,
 * and the plain insert is markedly cheaper per row than the speculative insertion of `ON CONFLICT`.
 *
 * The notification is deliberately NOT in the insert's transaction: PostgreSQL serialises the
 * commits of notifying transactions (a database-wide lock held through the WAL flush), which cost
 * 8 concurrent writers more than half their throughput when measured; a transaction that only
 * notifies writes no WAL and holds that lock for microseconds.
 *
 * `client` must be a pipelining connection used by nothing else meanwhile.
 */
export async function putDeltas(client: pg.Client, deltas: Uint8Array[], o: PutSettings): Promise<PutOutcome[]> {
  checkDeltaSizes(deltas, o);
  if (deltas.length === 0) return [];
  const rows: Row[] = [];
  const seen = new Set<string>();
  const keys = deltas.map((bytes) => {
    const key = transportKey(bytes);
    if (seen.has(key)) return key; // a second copy in the same call
    seen.add(key);
    const k = parseTransportKey(key);
    rows.push({ key, bytes, mode: o.bodyJson ? jsonMode(bytes, k.writer !== undefined) : JsonMode.None, writer: k.writer ?? null, frame: k.frame === undefined ? null : String(k.frame) });
    return key;
  });
  const chunks: Row[][] = [];
  let size = Infinity;
  for (const r of rows) {
    if (size + r.bytes.byteLength > o.chunkBytes) {
      chunks.push([]);
      size = 0;
    }
    chunks.at(-1)!.push(r);
    size += r.bytes.byteLength;
  }
  let stored = new Set<string>();
  /** The notification, in its own transaction behind the insert's (pipelined: no extra round trip); its failure does not fail the put. */
  const notify = (): Promise<void> => (o.notify ? sendNotify(client, o.names).then(() => undefined, o.onNotifyError) : Promise.resolve());
  /** One try: every chunk inserted (all stored, or on conflict the keys returned), committed together, then notified. */
  const attempt = async (onConflict: boolean, tryAll: boolean): Promise<Set<string>> => {
    // A named statement: parsed and planned once per connection, then only bound and executed.
    const sql = { name: onConflict ? 'framelog_put_on_conflict' : 'framelog_put', text: insertSql(o.names.schema, onConflict) };
    const got = new Set<string>();
    const keep = (c: Row[], r: pg.QueryResult<{ key: string }>): void => {
      if (onConflict) for (const row of r.rows) got.add(row.key);
      else for (const row of c) got.add(row.key);
    };
    if (chunks.length === 1) {
      // Both statements leave in one write (the socket corked around them): one system call, one wake-up of the backend.
      const stream = client.connection.stream;
      stream.cork();
      let inserted: Promise<pg.QueryResult<{ key: string }>>, notified: Promise<void>;
      try {
        inserted = client.query<{ key: string }>({ ...sql, values: insertValues(chunks[0], tryAll) });
        notified = notify();
      } finally {
        stream.uncork();
      }
      try {
        keep(chunks[0], await inserted);
      } finally {
        await notified;
      }
      return got;
    }
    await client.query('BEGIN');
    try {
      for (const c of chunks) keep(c, await client.query<{ key: string }>({ ...sql, values: insertValues(c, tryAll) }));
      await client.query('COMMIT');
    } catch (e) {
      // A failed ROLLBACK means the connection is gone: the put's own error is the one to report.
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
    await notify();
    return got;
  };
  let onConflict = false, tryAll = false;
  for (;;) {
    try {
      stored = await attempt(onConflict, tryAll);
      break;
    } catch (e) {
      // Nothing was committed: the statement (or the transaction) failed as a whole. A key already
      // pending: again with ON CONFLICT; a text jsonb refused: again with try_jsonb for every row.
      if (!onConflict && (e as { code?: string }).code === '23505') onConflict = true;
      else if (!tryAll && isJsonRefusal(e) && rows.some((r) => r.mode === JsonMode.Cast)) tryAll = true;
      else throw e;
    }
  }
  return keys.map((key) => ({ id: key, duplicate: !stored.delete(key) }));
}
