import { createHash } from 'node:crypto';
import { FramelogError } from '../../errors.js';

/**
 * A store name the PostgreSQL transport accepts: letters, digits, `_` and `-`, at most 54
 * characters, so that the schema `framelog_<store>` (also the notification channel) stays within
 * PostgreSQL's 63-byte identifiers.
 */
export const POSTGRES_STORE_NAME = /^[A-Za-z0-9_-]{1,54}$/;

/** Where one store lives in a PostgreSQL database. */
export interface PostgresNames {
  store: string;
  /** The schema, quoted for SQL: `"framelog_<store>"` (case and `-` kept). */
  schema: string;
  /** The schema's name as in the catalog (unquoted). */
  schemaName: string;
  /** The LISTEN/NOTIFY channel, quoted for `LISTEN`. */
  channel: string;
  /** The channel as `pg_notify` takes it (unquoted). */
  channelName: string;
  /** Advisory lock key (a bigint, as a decimal string) serialising the schema's creation. */
  schemaLockKey: string;
  /** Advisory lock key held by the merger that holds the lease. */
  leaseLockKey: string;
}

/** A signed 64-bit advisory lock key derived from the store name and a purpose. */
function lockKey(purpose: string, store: string): string {
  return createHash('sha256').update(`framelog:${purpose}:${store}`).digest().readBigInt64BE(0).toString();
}

/** Validates `store` and names everything the transport keeps for it; throws FramelogError `bad-argument` on a bad name. */
export function postgresNames(store: string): PostgresNames {
  if (typeof store !== 'string' || !POSTGRES_STORE_NAME.test(store)) {
    throw new FramelogError(`postgres transport: store name ${JSON.stringify(store)} is not valid (want 1 to 54 letters, digits, _ or -)`, 'bad-argument');
  }
  const schemaName = `framelog_${store}`;
  return {
    store,
    schema: `"${schemaName}"`,
    schemaName,
    channel: `"${schemaName}"`,
    channelName: schemaName,
    schemaLockKey: lockKey('schema', store),
    leaseLockKey: lockKey('lease', store),
  };
}
