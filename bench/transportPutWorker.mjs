// One writer process of bench/transports.mjs: puts `deltas` deltas through the git transport
// from its own clone, `batch` per put (one commit and push each), and reports when it is done.
import { pathToFileURL } from 'node:url';

const [distIndex, url, clone, writer, deltas, batch, startAt] = process.argv.slice(2);
const { openGitTransport } = await import(pathToFileURL(distIndex).href);
const t = await openGitTransport({ url, dir: clone, identity: writer });
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
const started = Date.now();
let pushes = 0;
for (let i = 0; i < Number(deltas); i += Number(batch)) {
  const bytes = [];
  for (let j = i; j < Math.min(Number(deltas), i + Number(batch)); j++) {
    const frame = 1 + Math.floor(j / 10);
    bytes.push(Buffer.from(JSON.stringify({ frame, writer, utc: new Date(Date.UTC(2026, 0, 1) + j).toISOString(), seq: j % 10, counters: { n: 1 }, items: { results: [{ id: `${writer}-${j}` }] }, set: { agents: { [writer]: { j } } } })));
  }
  await t.put(bytes);
  pushes++;
}
await t.close();
process.stdout.write(JSON.stringify({ writer, started, ended: Date.now(), pushes }) + '\n');
