import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stateJson } from '../../merge/canonicalState.js';
import { queryConflicts, queryEvents, readLog } from '../../store/history/journalQueries.js';
import { loadStateAt } from '../../store/history/stateAt.js';
import { openStoreContext } from '../../store/storeContext.js';

/** The built CLI the sweep runs (`npm test` and `npm run test:faults` build first). */
export const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const SOURCE = fileURLToPath(new URL('./faultShim.c', import.meta.url));

let built: string | undefined;

/**
 * Compiles faultShim.c into a shared library once per process (gcc), and returns its path;
 * undefined when there is no C compiler (the sweep is then skipped, or fails under CI=true).
 */
export function faultShim(): string | undefined {
  if (built) return built;
  if (spawnSync('gcc', ['--version']).status !== 0) return undefined;
  const out = join(mkdtempSync(join(tmpdir(), 'framelog-faultshim-')), 'faultshim.so');
  const r = spawnSync('gcc', ['-shared', '-fPIC', '-O2', '-o', out, SOURCE, '-ldl'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`faultShim.c did not compile: ${r.stderr}`);
  built = out;
  return out;
}

/** One counted I/O call of a run: its number, the call and the path. */
export interface CountedCall {
  n: number;
  call: string;
  path: string;
}

/** What a run of the CLI did under the shim. */
export interface FaultRun {
  code: number | null;
  stdout: string;
  stderr: string;
  calls: CountedCall[];
}

/** Options of {@link runCli}: fail call `at` (once, or from it on with `persist`) of those under `root`. */
export interface FaultOptions {
  root: string;
  at?: number;
  persist?: boolean;
  input?: string;
}

/** Runs `framelog ARGS` with the shim preloaded; `at` 0 (default) fails nothing and only counts. */
export function runCli(args: string[], o: FaultOptions): FaultRun {
  const shim = faultShim();
  if (!shim) throw new Error('no C compiler: the fault shim cannot be built');
  const log = join(mkdtempSync(join(tmpdir(), 'framelog-faultlog-')), 'calls');
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    input: o.input,
    env: { ...process.env, NO_COLOR: '1', LD_PRELOAD: shim, FAULT_ROOT: o.root, FAULT_AT: String(o.at ?? 0), FAULT_PERSIST: o.persist ? '1' : '0', FAULT_LOG: log },
  });
  const calls = existsSync(log)
    ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => {
        const [n, call, ...rest] = l.split(' ');
        return { n: Number(n), call, path: rest.join(' ') };
      })
    : [];
  rmSync(join(log, '..'), { recursive: true, force: true });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls };
}

/** Runs `framelog ARGS` plainly (recovery, checks). */
export function cli(args: string[], input?: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Temp files (`*.tmp`) anywhere under `dir`. */
export function tempsUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.tmp')) out.push(p.slice(dir.length + 1));
    }
  };
  walk(dir);
  return out;
}

/**
 * The error a failed run printed must be one `framelog: …` line naming what failed, with no stack
 * trace; returns the problem, or undefined when it is fine.
 */
export function badErrorOutput(r: FaultRun): string | undefined {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('(node:') && !l.includes('--trace-warnings'));
  const own = lines.filter((l) => l.startsWith('framelog: '));
  if (own.length === 0) return `no "framelog: " line: ${JSON.stringify(r.stderr.slice(0, 300))}`;
  if (lines.some((l) => /^\s+at /.test(l))) return `a stack trace: ${JSON.stringify(r.stderr.slice(0, 300))}`;
  return undefined;
}

/** A CLI process the shim stopped just before one of its calls (see {@link startStoppedAt}). */
export interface StoppedRun {
  /** False when the process ended before it reached that call. */
  stopped: boolean;
  /** Kills the process (SIGKILL) and waits for it. */
  kill(): Promise<void>;
}

/** Starts `framelog ARGS` with the shim set to stop the process (SIGSTOP) just before call `at` under `root`; resolves once it is stopped or has ended. */
export async function startStoppedAt(args: string[], o: { root: string; at: number }): Promise<StoppedRun> {
  const shim = faultShim();
  if (!shim) throw new Error('no C compiler: the fault shim cannot be built');
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: 'ignore',
    env: { ...process.env, NO_COLOR: '1', LD_PRELOAD: shim, FAULT_ROOT: o.root, FAULT_AT: String(o.at), FAULT_ACTION: 'stop' },
  });
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let done = false;
  void ended.then(() => (done = true));
  for (;;) {
    if (done) return { stopped: false, kill: async () => undefined };
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T') break;
    } catch {
      /* between exit and reaping */
    }
    await new Promise((r) => setTimeout(r, 3));
  }
  return {
    stopped: true,
    kill: async () => {
      child.kill('SIGKILL');
      await ended;
    },
  };
}

/**
 * The store a merge is faulted or cut on: one merge of history, then a pending backlog that takes
 * every path of a merge (a field conflict, an event, items, a late delta, a bad file to quarantine,
 * an identical copy to record as a duplicate). Throws naming the command that failed.
 */
export function writeMergeBacklog(dir: string): void {
  const ok = (args: string[], input?: string): void => {
    const r = cli(args, input);
    if (r.code !== 0) throw new Error(`framelog ${args[0]} exited ${r.code}: ${r.err.trim()}`);
  };
  ok(['init', '--dir', dir]);
  ok(['put', '-', '--dir', dir], [sweepDelta(1, 'a', { counters: { n: 1 } }), sweepDelta(1, 'b', { counters: { n: 1 } })].join('\n'));
  ok(['merge', '--dir', dir]);
  ok(['put', '-', '--dir', dir], [
    sweepDelta(2, 'a', { counters: { n: 1 }, set: { x: { '1': { v: 'a' } } }, events: [{ type: 'e' }] }),
    sweepDelta(2, 'b', { counters: { n: 2 }, set: { x: { '1': { v: 'b' } } }, items: { p: [{ id: 1 }] } }),
    sweepDelta(1, 'c', { counters: { n: 4 } }), // late
    sweepDelta(3, 'a', { items: { p: [{ id: 2 }] } }),
  ].join('\n'));
  writeFileSync(join(dir, 'inbox', 'bad.json'), 'nope'); // quarantined, with a .why.json
  writeFileSync(join(dir, 'inbox', 'copy.json'), sweepDelta(1, 'a', { counters: { n: 1 } })); // an identical copy: a duplicate
}

/** A delta of the sweeps' workloads: `frame`, `writer`, a `utc` that follows both, and its operations. */
export function sweepDelta(frame: number, writer: string, ops: object = {}): string {
  const utc = new Date(Date.UTC(2026, 0, 1) + (frame * 10 + (writer.charCodeAt(0) % 10)) * 1000).toISOString();
  return JSON.stringify({ frame, writer, utc, ...ops });
}

/** What must not depend on where a fault or a cut struck: state, merge records without wall clocks, conflicts, events. */
export function storeOutcome(dir: string): string {
  const ctx = openStoreContext(dir);
  const log = readLog(ctx).map(({ utc: _u, prev: _p, ...rest }) => rest);
  return JSON.stringify({ state: stateJson(loadStateAt(ctx)), log, conflicts: JSON.stringify(queryConflicts(ctx)).replace(/"utc":"[^"]*"/g, ''), events: queryEvents(ctx) });
}
