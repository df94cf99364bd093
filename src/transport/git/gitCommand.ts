import { execFile, execFileSync, spawn } from 'node:child_process';
import { FramelogError } from '../../errors.js';

/** The outcome of one `git` run. */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Every run: no pager, no prompts, no editor, and no user or system config hooks that could rewrite files.
const ENV = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
  GIT_EDITOR: 'true',
  GIT_CONFIG_NOSYSTEM: '1',
  LC_ALL: 'C',
};

const env = (): NodeJS.ProcessEnv => ({ ...process.env, ...ENV });

function failure(cwd: string, args: string[], r: GitResult): FramelogError {
  const why = (r.stderr || r.stdout).trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.code}`;
  return new FramelogError(`git ${args.join(' ')} (in ${cwd}): ${why}`, 'git-failed');
}

/** Runs `git` (the real binary, no shell) in `cwd`; returns the outcome without throwing on a non-zero exit. */
export const gitTimings = new Map<string, { n: number; ms: number }>();
const timed = (args: string[], t0: number): void => {
  if (!process.env.FRAMELOG_GIT_TIMINGS) return;
  const k = args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? '?';
  const e = gitTimings.get(k) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += performance.now() - t0;
  gitTimings.set(k, e);
};

export function gitTry(cwd: string, args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<GitResult> {
  const t0 = performance.now();
  if (opts.input !== undefined) return gitWithInput(cwd, args, opts.input, opts.env ?? {}, t0);
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: { ...env(), ...opts.env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        reject(new FramelogError(`git: cannot run (${(err as NodeJS.ErrnoException).code}); is git installed?`, 'git-missing'));
        return;
      }
      timed(args, t0);
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function gitWithInput(cwd: string, args: string[], input: string | Buffer, extra: Record<string, string>, t0: number): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: { ...env(), ...extra }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new FramelogError(`git: cannot run (${(e as NodeJS.ErrnoException).code}); is git installed?`, 'git-missing')));
    child.on('close', (code) => {
      timed(args, t0);
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => undefined); // git exited early: its exit code says why
    child.stdin.end(input);
  });
}

/** Runs `git` in `cwd`; throws a one-line {@link FramelogError} on a non-zero exit. */
export async function git(cwd: string, args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<string> {
  const r = await gitTry(cwd, args, opts);
  if (r.code !== 0) throw failure(cwd, args, r);
  return r.stdout;
}

/** Synchronous `git`, for the merge hook that must finish before the next merge starts. */
export function gitSync(cwd: string, args: string[]): string {
  const t0 = performance.now();
  try {
    return execFileSync('git', args, { cwd, env: env(), maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (e) {
    const x = e as { status?: number; stdout?: Buffer; stderr?: Buffer };
    throw failure(cwd, args, { code: x.status ?? 1, stdout: x.stdout?.toString() ?? '', stderr: x.stderr?.toString() ?? String(e) });
  } finally {
    timed(args, t0);
  }
}
