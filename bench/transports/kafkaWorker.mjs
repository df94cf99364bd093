// One writer process of bench/transports/kafka.mjs: builds its deltas first, waits for the common
// start time, then puts them `batch` per call — through the framelog kafka transport (an idempotent
// acks=all producer, one produce request per put, key = writer), or raw (the same client and
// settings, the batch sent to a plain topic, no key). Prints {writer, started, ended, puts} as JSON.
//
//   node kafkaWorker.mjs <dist> <url> <store> <writer> <deltas> <batch> <startAt> <transport|raw>
import { pathToFileURL } from 'node:url';
import { benchDeltas, startAtTime, timedPuts } from './workerKit.mjs';

const [dist, url, store, writer, deltasArg, batchArg, startAt, mode] = process.argv.slice(2);
const deltas = Number(deltasArg), batch = Number(batchArg);
const bytes = benchDeltas(writer, deltas);

let put, close;
if (mode === 'raw') {
  // The transport's own client and producer settings (kafkajs, idempotent, one request in flight).
  const { createKafka, createProducer } = await import(pathToFileURL(`${dist}/transport/kafka/kafkaClient.js`).href);
  const brokers = url.split(',').map((p) => p.replace(/^kafka:\/\//, ''));
  const producer = await createProducer(await createKafka(`raw-${writer}`, brokers));
  const topic = `framelog.${store}.raw`;
  put = (list) => producer.send({ topic, acks: -1, messages: list.map((value) => ({ partition: 0, value })) });
  close = () => producer.disconnect();
} else {
  const { openKafkaTransport } = await import(pathToFileURL(`${dist}/transport/kafka/kafkaTransport.js`).href);
  const t = await openKafkaTransport({ url, store });
  put = (list) => t.put(list);
  close = () => t.close();
}

await timedPuts({ writer, bytes, batch, put, close, start: startAtTime(startAt) });
