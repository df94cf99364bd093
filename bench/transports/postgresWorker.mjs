// One writer process of bench/transports/postgres.mjs: builds its deltas first, waits for the
// common start time, then puts them `batch` per call — through the framelog postgres transport
// (one round trip per put: a prepared INSERT into the indexed deltas table, ON CONFLICT only when a
// key is already pending, pipelined with a pg_notify now and then), or raw (one plain `INSERT INTO
// t(key, body) SELECT * FROM unnest($1::text[], $2::bytea[])` per batch, its own transaction, into
// a table without index or notify; the key is the SHA-256 of the bytes, computed per batch).
// Prints {writer, started, ended, puts} as JSON.
//
//   node postgresWorker.mjs <dist> <url> <store> <writer> <deltas> <batch> <startAt> <transport|raw> [rawTable]
import { pathToFileURL } from 'node:url';
import { benchDeltas, startAtTime, timedPuts } from './workerKit.mjs';

const [dist, url, store, writer, deltasArg, batchArg, startAt, mode, rawTable] = process.argv.slice(2);
const deltas = Number(deltasArg), batch = Number(batchArg);
const bytes = benchDeltas(writer, deltas);

let put, close;
if (mode === 'raw') {
  const { default: pg } = await import('pg');
  const { createHash } = await import('node:crypto');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // The key column needs a key: the SHA-256 of the bytes (what any client would compute; the
  // transport computes transportKey, identity + SHA-256, which also parses the JSON).
  const sql = `INSERT INTO ${rawTable} (key, body) SELECT * FROM unnest($1::text[], $2::bytea[])`;
  put = async (list) => {
    await client.query(sql, [list.map((b) => createHash('sha256').update(b).digest('hex')), list]);
  };
  close = () => client.end();
} else {
  const { openPostgresTransport } = await import(pathToFileURL(`${dist}/transport/postgres/postgresTransport.js`).href);
  const t = await openPostgresTransport({ url, store });
  put = (list) => t.put(list);
  close = () => t.close();
}

await timedPuts({ writer, bytes, batch, put, close, start: startAtTime(startAt) });
