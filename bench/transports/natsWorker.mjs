// One writer process of bench/transports/nats.mjs. Builds its deltas first, waits for the common
// start time, then puts them `batch` per call: through the framelog NATS transport (every delta of
// a put published at once with its Nats-Msg-Id, all PubAcks awaited), or raw (the same bytes
// published at once into a plain stream without Nats-Msg-Id, all PubAcks awaited). Prints
// {writer, started, ended, puts} as JSON.
//
//   node natsWorker.mjs <dist> <url> <store|raw stream> <writer> <deltas> <batch> <startAt> <transport|raw>
import { pathToFileURL } from 'node:url';
import { benchDeltas, timedPuts } from './workerKit.mjs';

const [dist, url, target, writer, deltasArg, batchArg, mode] = process.argv.slice(2);
const deltas = Number(deltasArg), batch = Number(batchArg);
const bytes = benchDeltas(writer, deltas);

let put, close;
if (mode === 'raw') {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream } = await import('@nats-io/jetstream');
  // The transport's client settings (noAsyncTraces), so that only the transport's own work differs.
  const nc = await connect({ servers: url.split(','), name: `bench raw ${writer}`, noAsyncTraces: true });
  const js = jetstream(nc, { timeout: 10_000 });
  const subject = `bench.${target}.${writer}`;
  put = async (list) => {
    await Promise.all(list.map((b) => js.publish(subject, b)));
  };
  close = () => nc.close();
} else {
  const { openNatsTransport } = await import(pathToFileURL(`${dist}/transport/nats/natsTransport.js`).href);
  const t = await openNatsTransport({ url, store: target, name: `bench ${writer}` });
  put = (list) => t.put(list);
  close = () => t.close();
}

process.stdout.write('ready\n');
// The parent says go once every writer is connected (a start time could pass while one still connects).
const go = () => new Promise((resolve) => {
  let line = '';
  process.stdin.on('data', (b) => {
    line += b;
    if (line.includes('go')) {
      process.stdin.pause();
      resolve();
    }
  });
});
await timedPuts({ writer, bytes, batch, put, close, start: go });
