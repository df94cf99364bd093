// The PostgreSQL transport in bench/transports.mjs: deltas/s put by W writer processes through the
// transport (one round trip per put: a prepared INSERT of the bodies as one binary parameter into
// the deltas table with its primary key, unique key index and jsonb column, ON CONFLICT only when
// a key is already pending, a pg_notify pipelined behind it now and then) against the same
// processes and batches through a raw pg client (one plain INSERT … SELECT FROM unnest per batch
// into a table without index or notify), and the latency from a put to its merge with a
// watch-mode merger woken by LISTEN. Both sides commit with synchronous_commit = on.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runAlone, summarize } from './engineBench.mjs';
import { putToMerged } from './putToMerged.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const URL_ = process.env.FRAMELOG_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const load = (dist, file) => import(pathToFileURL(path.join(dist, file)).href);

/** W worker processes put `perWriter` deltas each, `batch` per call, started together; seconds from the first start to the last end. */
async function runWriters(dist, store, mode, writers, perWriter, batch, rawTable) {
  const startAt = Date.now() + 1500;
  const runs = await Promise.all(Array.from({ length: writers }, (_, i) => new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [path.join(here, 'postgresWorker.mjs'), dist, URL_, store, `w${i}`, String(perWriter), String(batch), String(startAt), mode, rawTable], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (b) => (out += b));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`postgres ${mode} writer w${i} exited ${code}`))));
  })));
  return (Math.max(...runs.map((r) => r.ended)) - Math.min(...runs.map((r) => r.started))) / 1000;
}

/**
 * Throughput of puts through the transport and through the raw client, the same processes and
 * batches, interleaved (3 trials, medians; 1 with `quick`). Checks every delta arrived.
 */
export async function measure({ dist, writers, perWriter, batch, quick }) {
  const { default: pg } = await import('pg');
  const { openPostgresTransport, dropPostgresTransportStore } = await load(dist, 'transport/postgres/postgresTransport.js');
  const admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
  const deltas = writers * perWriter;
  const seconds = { transport: [], raw: [] };
  try {
    for (let trial = 0; trial < (quick ? 1 : 3); trial++) {
      for (const mode of ['transport', 'raw']) {
        const store = `bench_${randomBytes(5).toString('hex')}`;
        const rawTable = `public."framelog_raw_${store}"`;
        try {
          if (mode === 'raw') await admin.query(`CREATE TABLE ${rawTable} (key text NOT NULL, body bytea NOT NULL)`);
          else await (await openPostgresTransport({ url: URL_, store })).close(); // the schema exists before the writers start
          seconds[mode].push(await runWriters(dist, store, mode, writers, perWriter, batch, rawTable));
          const table = mode === 'raw' ? rawTable : `"framelog_${store}".deltas`;
          const n = Number((await admin.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
          if (n !== deltas) throw new Error(`postgres ${mode}: ${n} of ${deltas} deltas in ${table}`);
        } finally {
          await admin.query(`DROP TABLE IF EXISTS ${rawTable}`);
          await dropPostgresTransportStore({ url: URL_, store });
        }
      }
    }
    return summarize({ writers, perWriter, batch, seconds });
  } finally {
    await admin.end();
  }
}

/** One writer, one delta per frame, a watch-mode merger expecting that writer: ms from the put call to the merge. */
export async function latency({ dist, frames }) {
  const { openPostgresTransport, dropPostgresTransportStore } = await load(dist, 'transport/postgres/postgresTransport.js');
  const store = `bench_lat_${randomBytes(5).toString('hex')}`;
  return putToMerged({ dist, frames, name: 'postgres', open: () => openPostgresTransport({ url: URL_, store }), drop: () => dropPostgresTransportStore({ url: URL_, store }) });
}

// Run alone: node bench/transports/postgres.mjs [--quick] (uses dist/ as built).
if (process.argv[1] === fileURLToPath(import.meta.url)) await runAlone('postgres', { measure, latency });
