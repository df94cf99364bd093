// A merger lease holder in its own process, for the SIGKILL failover test: takes the lease of
// <store> on <url> with <ttlMs>, prints {"token":…,"holder":…} once it holds it, and keeps renewing
// until it is killed. Imports the built library from <dist> (build it: npx tsc -p tsconfig.build.json).
import { pathToFileURL } from 'node:url';

const [dist, url, store, ttlMs, holder] = process.argv.slice(2);
const { openNatsTransport } = await import(pathToFileURL(`${dist}/transport/nats/natsTransport.js`).href);
const t = await openNatsTransport({ url, store });
const lease = await t.failover.acquireLease({ holder, ttlMs: Number(ttlMs) });
process.stdout.write(JSON.stringify({ token: lease.token, holder: lease.holder }) + '\n');
lease.lost.addEventListener('abort', () => {
  process.stderr.write(`natsLeaseHolder: lost ${lease.lost.reason?.message}\n`);
  process.exit(3);
});
setInterval(() => {}, 1000);
