import type pg from 'pg';
import { FramelogError } from '../../errors.js';
import type { MergerLease, PublishedHead, PublishedMerge } from '../transport.js';
import type { PostgresNames } from './postgresNames.js';

/**
 * One statement, so one transaction: lock the lease row (`FOR UPDATE`: a takeover's token update
 * waits for it, or it sees the new token), read the head, and insert only when the token is the
 * current one and the first index follows the head. Answers what it saw and how many rows went in.
 */
function publishSql(s: string): string {
  return `WITH l AS (SELECT token FROM ${s}.lease WHERE id = 1 FOR UPDATE),
h AS (SELECT coalesce(max("index"), 0) AS head FROM ${s}.merges),
ins AS (
  INSERT INTO ${s}.merges ("index", frame, record_sha256, bundle, fence)
  SELECT x.i, x.f, x.r, substring($4::bytea FROM x.o FOR x.l), $1
  FROM unnest($2::bigint[], $3::bigint[], $5::text[], $6::int[], $7::int[]) AS x(i, f, r, o, l)
  WHERE (SELECT token FROM l) = $1 AND (SELECT head FROM h) = $8::bigint - 1
  RETURNING 1)
SELECT (SELECT token FROM l)::text AS token, (SELECT head FROM h)::text AS head, (SELECT count(*) FROM ins)::int AS inserted`;
}

/**
 * Publishes `merges` atomically with the fencing check (see {@link publishSql}): FramelogError
 * `lease-lost` when `lease.token` is not the lease row's token, `diverged` when the indexes are not
 * consecutive or do not follow the published head (also when another publisher got there first).
 * Nothing is written in either case.
 */
export async function publishMerges(client: pg.ClientBase, names: PostgresNames, merges: PublishedMerge[], lease: MergerLease): Promise<void> {
  if (merges.length === 0) return;
  const where = `postgres transport (store ${names.store})`;
  merges.forEach((m, i) => {
    if (!Number.isSafeInteger(m.index) || m.index < 1 || (i > 0 && m.index !== merges[i - 1].index + 1)) {
      throw new FramelogError(`${where}: publishMerges: merge #${i} has index ${m.index}, not consecutive with the ones before it (want ${i === 0 ? 'an integer ≥ 1' : merges[i - 1].index + 1})`, 'diverged');
    }
  });
  let at = 1;
  const offsets = merges.map((m) => ((at += m.bundle.byteLength), at - m.bundle.byteLength));
  let r: pg.QueryResult<{ token: string | null; head: string; inserted: number }>;
  try {
    r = await client.query(publishSql(names.schema), [
      String(lease.token),
      merges.map((m) => m.index),
      merges.map((m) => m.frame),
      Buffer.concat(merges.map((m) => m.bundle)),
      merges.map((m) => m.recordSha256),
      offsets,
      merges.map((m) => m.bundle.byteLength),
      merges[0].index,
    ]);
  } catch (e) {
    if ((e as { code?: string }).code === '23505') {
      throw new FramelogError(`${where}: publishMerges: merge ${merges[0].index} was published meanwhile by someone else (diverged)`, 'diverged');
    }
    throw e;
  }
  const row = r.rows[0];
  if (row.token !== String(lease.token)) {
    throw new FramelogError(`${where}: publishMerges: lease token ${lease.token} of ${lease.holder} is no longer current (the lease is at ${row.token ?? 'none'}); nothing published`, 'lease-lost');
  }
  if (row.inserted !== merges.length) {
    throw new FramelogError(`${where}: publishMerges: merge ${merges[0].index} does not follow the published head ${row.head} (diverged); nothing published`, 'diverged');
  }
}

/** The last published merge, or undefined. */
export async function publishedHead(client: pg.ClientBase, names: PostgresNames): Promise<PublishedHead | undefined> {
  const r = await client.query<{ index: string; frame: string; record_sha256: string }>(`SELECT "index", frame, record_sha256 FROM ${names.schema}.merges ORDER BY "index" DESC LIMIT 1`);
  const row = r.rows[0];
  return row ? { index: Number(row.index), frame: Number(row.frame), recordSha256: row.record_sha256 } : undefined;
}

/** A page of published merges from `$1` on: up to `$2` rows and `$3` bundle bytes (at least one row). */
function mergePageSql(s: string): string {
  return `SELECT "index", frame, record_sha256, bundle FROM (
  SELECT "index", frame, record_sha256, bundle, sum(octet_length(bundle)) OVER w - octet_length(bundle) AS before
  FROM ${s}.merges WHERE "index" >= $1
  WINDOW w AS (ORDER BY "index" ROWS UNBOUNDED PRECEDING)
  ORDER BY "index" LIMIT $2) p
WHERE before < $3 ORDER BY "index"`;
}

/** Reads one page of merges with `index ≥ fromIndex` (empty at the end). */
export async function readMergePage(client: pg.ClientBase, names: PostgresNames, fromIndex: number, pageRows: number, pageBytes: number): Promise<PublishedMerge[]> {
  const r = await client.query<{ index: string; frame: string; record_sha256: string; bundle: Buffer }>(mergePageSql(names.schema), [fromIndex, pageRows, pageBytes]);
  return r.rows.map((row) => ({ index: Number(row.index), frame: Number(row.frame), recordSha256: row.record_sha256, bundle: new Uint8Array(row.bundle.buffer, row.bundle.byteOffset, row.bundle.byteLength) }));
}

/** Deletes the published merges with `index < keepFromIndex`, the head excepted; returns how many went. */
export async function trimPostgresMerges(client: pg.ClientBase, names: PostgresNames, keepFromIndex: number): Promise<number> {
  const r = await client.query(`DELETE FROM ${names.schema}.merges WHERE "index" < least($1::bigint, (SELECT max("index") FROM ${names.schema}.merges))`, [Math.floor(keepFromIndex)]);
  return r.rowCount ?? 0;
}
