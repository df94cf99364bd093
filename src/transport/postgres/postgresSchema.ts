import pg from 'pg';
import type { PostgresNames } from './postgresNames.js';

/** Written as the schema's comment once every object exists: a later open skips the DDL. */
export const POSTGRES_SCHEMA_VERSION = 'framelog postgres transport, schema 1';

/**
 * The DDL of one store, idempotent. Run as one simple-protocol query, the statements form one
 * implicit transaction, so the advisory lock taken first serialises two processes creating the same
 * store at once (`CREATE SCHEMA IF NOT EXISTS` alone can fail with a unique violation when two
 * sessions race), and a crash half-way leaves nothing behind.
 *
 * - `deltas`: the pending copies. `body` holds the bytes exactly as put (bytea: a text column
 *   cannot hold a NUL byte or invalid UTF-8, and bad input must reach the merger's quarantine byte
 *   for byte); `body_json` holds the same bytes as jsonb when PostgreSQL's jsonb accepts them
 *   (NULL otherwise: invalid UTF-8, no JSON, a `\u0000` escape…), for people querying the table.
 *   `key` is the dedup key (`transportKey`), unique among pending copies only: an acknowledged
 *   copy is deleted, so the same bytes put again afterwards are stored again. It is compared
 *   bytewise (`COLLATE "C"`): the index never pays for the database's linguistic collation.
 * - `merges`: the published merges (the bundle is opaque bytes) with the fence token that wrote them.
 * - `lease`: one row, the current holder and its fencing token (from `fence_seq`).
 * - `try_jsonb(bytea)`: jsonb of the bytes, NULL when PostgreSQL rejects them.
 */
export function postgresSchemaDdl(n: PostgresNames): string {
  const s = n.schema;
  const literal = (x: string): string => `'${x.replace(/'/g, "''")}'`;
  return `
SELECT pg_advisory_xact_lock(${n.schemaLockKey});
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.deltas (
  id bigserial PRIMARY KEY,
  key text COLLATE "C" NOT NULL,
  body bytea NOT NULL,
  body_json jsonb NULL,
  writer text NULL,
  frame bigint NULL,
  put_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS deltas_key ON ${s}.deltas (key);
CREATE TABLE IF NOT EXISTS ${s}.merges (
  "index" bigint PRIMARY KEY,
  frame bigint NOT NULL,
  record_sha256 text NOT NULL,
  bundle bytea NOT NULL,
  fence bigint NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE IF NOT EXISTS ${s}.fence_seq;
CREATE TABLE IF NOT EXISTS ${s}.lease (
  id int PRIMARY KEY CHECK (id = 1),
  token bigint NULL,
  holder text NULL,
  since timestamptz NULL
);
INSERT INTO ${s}.lease (id) VALUES (1) ON CONFLICT (id) DO NOTHING;
CREATE OR REPLACE FUNCTION ${s}.try_jsonb(b bytea) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
  RETURN convert_from(b, 'UTF8')::jsonb;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
  RETURN NULL;
END
$fn$;
COMMENT ON SCHEMA ${s} IS ${literal(POSTGRES_SCHEMA_VERSION)};
`;
}

/** What {@link ensurePostgresSchema} learnt about the server on the way. */
export interface PostgresServerFacts {
  /** The server's `fsync` setting: `off` means a commit is acknowledged without reaching the disk. */
  fsync: string;
}

/**
 * Creates the store's schema when it is missing or older (safe when several processes open the
 * same store at once); a no-op costing one query when it is there (the same query reads `fsync`).
 */
export async function ensurePostgresSchema(client: pg.ClientBase, n: PostgresNames): Promise<PostgresServerFacts> {
  const r = await client.query<{ v: string | null; fsync: string }>(`SELECT obj_description(to_regnamespace($1), 'pg_namespace') AS v, current_setting('fsync') AS fsync`, [n.schemaName]);
  if (r.rows[0]?.v !== POSTGRES_SCHEMA_VERSION) await client.query(postgresSchemaDdl(n));
  return { fsync: r.rows[0]?.fsync ?? 'unknown' };
}

/** Removes a store and everything in it (its pending deltas, published merges and lease). */
export async function dropPostgresStore(client: pg.ClientBase, n: PostgresNames): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(${n.schemaLockKey}); DROP SCHEMA IF EXISTS ${n.schema} CASCADE;`);
}
