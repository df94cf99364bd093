import type pg from 'pg';
import type { Arrival } from '../transport.js';
import type { PostgresNames } from './postgresNames.js';

/** How a pull pages through the pending rows. */
export interface PullSettings {
  names: PostgresNames;
  /** Rows per page (default 5000). */
  pageRows: number;
  /** Body bytes per page (at least one row a page). */
  pageBytes: number;
}

/**
 * One page: the pending rows after `$1` not held by this session (`$2`), in id order, up to `$3`
 * rows and `$4` body bytes; one row more than it takes (without its body) says whether more follow.
 */
function pageSql(s: string): string {
  return `SELECT id, CASE WHEN taken THEN body END AS body, taken FROM (
  SELECT id, body, (row_number() OVER w <= $3 AND sum(octet_length(body)) OVER w - octet_length(body) < $4) AS taken
  FROM ${s}.deltas WHERE id > $1 AND id <> ALL($2::bigint[])
  WINDOW w AS (ORDER BY id ROWS UNBOUNDED PRECEDING)
  ORDER BY id LIMIT $3 + 1) p
ORDER BY id`;
}

/**
 * Reads every pending delta this session does not hold yet, in id order, page by page, and adds
 * their ids to `held` (the session's returned-but-not-acknowledged set; `ack` removes them).
 *
 * Why not a cursor `id > last seen`: ids come from a sequence when a put's statement runs, but
 * become visible at its commit, so a put that took id 10 may commit after one that took id 11. A
 * cursor past 11 would skip 10 for the rest of the session. Acknowledged rows are deleted, so the
 * table IS the pending set: a pull returns the rows it holds no id of, and a late commit with a
 * small id is found by the next pull (PostgreSQL 14+ checks `<> ALL` of a long list with a hash).
 */
export async function pullPending(client: pg.ClientBase, held: Set<string>, o: PullSettings): Promise<Arrival[]> {
  const sql = pageSql(o.names.schema);
  const heldNow = [...held];
  const out: Arrival[] = [];
  let after = '0';
  for (;;) {
    const r = await client.query<{ id: string; body: Buffer | null; taken: boolean }>(sql, [after, heldNow, o.pageRows, o.pageBytes]);
    let more = false;
    for (const row of r.rows) {
      if (!row.taken) {
        more = true;
        break;
      }
      out.push({ id: row.id, bytes: row.body! });
      after = row.id;
    }
    if (!more) break;
  }
  for (const a of out) held.add(a.id);
  return out;
}

/** Deletes the acknowledged rows (one statement) and forgets them from `held`. */
export async function ackPulled(client: pg.ClientBase, names: PostgresNames, held: Set<string>, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await client.query({ name: 'framelog_ack', text: `DELETE FROM ${names.schema}.deltas WHERE id = ANY($1::bigint[])`, values: [ids] });
  for (const id of ids) held.delete(id);
}
