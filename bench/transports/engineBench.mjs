// What the engine benches share: the transport-vs-raw summary of interleaved trials, and running a
// bench module on its own (`node bench/transports/<engine>.mjs [--quick]`).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Medians of the trials (seconds) of each mode, as deltas/s, and their ratio. */
export function summarize({ writers, perWriter, batch, seconds }) {
  const deltas = writers * perWriter;
  const fig = (s) => ({ seconds: round(s, 3), deltas_per_s: round(deltas / s) });
  const transport = fig(median(seconds.transport)), raw = fig(median(seconds.raw));
  return { writers, perWriter, batch, deltas, transport, raw, ratio: round(transport.deltas_per_s / raw.deltas_per_s, 2), trials: { transport: seconds.transport, raw: seconds.raw } };
}

/** Runs `measure` (1 and 8 writers) and `latency` of one engine module and prints them. */
export async function runAlone(name, { measure, latency }) {
  const quick = process.argv.includes('--quick');
  const dist = path.resolve(here, '../../dist');
  const per = quick ? 500 : 5000;
  for (const [writers, batch] of [[1, 100], [8, 100]]) {
    const r = await measure({ dist, writers, perWriter: writers === 1 ? per * 2 : per, batch, quick });
    console.log(`${name} ${writers} writer(s) × ${r.perWriter}, ${batch}/put: transport ${r.transport.deltas_per_s}/s, raw ${r.raw.deltas_per_s}/s, ratio ${r.ratio} (trials s: transport ${r.trials.transport.join(' ')}, raw ${r.trials.raw.join(' ')})`);
  }
  const l = await latency({ dist, frames: quick ? 10 : 40 });
  console.log(`${name} latency put → merged: p50 ${l.ms.p50} ms, p95 ${l.ms.p95} ms, max ${l.ms.max} ms (${l.frames} frames)`);
}

/**
 * Starts W writer processes of `worker` (a file beside this one) with `argsOf(i)`, started together
 * at a common time `leadMs` from now (appended as the start time before `mode`, as the workers
 * read it); seconds from the first start to the last end.
 */
export async function runWriterProcesses({ worker, writers, leadMs = 1500, argsOf, label }) {
  const { spawn } = await import('node:child_process');
  const startAt = Date.now() + leadMs;
  const runs = await Promise.all(Array.from({ length: writers }, (_, i) => new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [path.join(here, worker), ...argsOf(i, startAt)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (b) => (out += b));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${label} writer w${i} exited ${code}`))));
  })));
  return (Math.max(...runs.map((r) => r.ended)) - Math.min(...runs.map((r) => r.started))) / 1000;
}
