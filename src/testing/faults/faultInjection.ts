import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
