/**
 * A child appender for the concurrency and crash tests. Arguments (JSON in argv[2]):
 * `{ dir, stream, writer, count, minBytes, maxBytes, bigEvery?, bigBytes?, durability, seed, ackFile?, announceWrites?, pauseMs? }`.
 * Appends `count` records `{"type":"stress","w":writer,"i":i,"n":padLength,"pad":"…"}` one after
 * another (each awaited), sizes log-uniform in [minBytes, maxBytes] (every `bigEvery`-th is
 * `bigBytes`); after each append resolves, writes `writer i` to `ackFile`. With `announceWrites`,
 * prints `W` on stdout just before each `write` of over 1 MiB, so a test can SIGKILL it mid-write.
 * With `pauseMs`, waits that long after each acknowledged append (a steady background writer).
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { openStreamAppender } from '../openStreamAppender.js';
import type { Durability } from '../openStreamAppender.js';

interface ChildArgs {
  dir: string;
  stream: string;
  writer: string;
  count: number;
  minBytes: number;
  maxBytes: number;
  bigEvery?: number;
  bigBytes?: number;
  durability: Durability;
  seed: number;
  ackFile?: string;
  announceWrites?: boolean;
  pauseMs?: number;
}

const args = JSON.parse(process.argv[2]!) as ChildArgs;
let state = args.seed >>> 0 || 1;
const random = (): number => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 0x1_0000_0000;
};
if (args.announceWrites) {
  const writeSync = fs.writeSync;
  const announce = Buffer.from('W\n');
  (fs as { writeSync: unknown }).writeSync = (fd: number, buf: Buffer, ...rest: unknown[]): number => {
    if (fd !== 1 && Buffer.isBuffer(buf) && buf.length > 1 << 20) writeSync(1, announce);
    return (writeSync as (...a: unknown[]) => number)(fd, buf, ...rest);
  };
  // The store writes through named imports of node:fs; make them see the patched function too.
  syncBuiltinESMExports();
}
const padSource = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2048);
const appender = openStreamAppender(args.dir, args.stream, { durability: args.durability });
const ack = args.ackFile ? fs.openSync(args.ackFile, 'a') : undefined;
const ratio = Math.log(args.maxBytes / args.minBytes);

for (let i = 0; i < args.count; i++) {
  const big = args.bigEvery !== undefined && args.bigBytes !== undefined && i % args.bigEvery === args.bigEvery - 1;
  const size = big ? args.bigBytes! : Math.round(args.minBytes * Math.exp(random() * ratio));
  const n = Math.max(1, size - 80);
  const pad = n <= padSource.length ? padSource.slice(0, n) : padSource.repeat(Math.ceil(n / padSource.length)).slice(0, n);
  await appender.append({ type: 'stress', w: args.writer, i, n, pad });
  if (ack !== undefined) fs.writeSync(ack, `${args.writer} ${i}\n`);
  if (args.pauseMs) await new Promise((resolve) => setTimeout(resolve, args.pauseMs));
}
await appender.close();
