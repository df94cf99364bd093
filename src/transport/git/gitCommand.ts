import { execFile, execFileSync } from 'node:child_process';
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
export function gitTry(cwd: string, args: string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: env(), maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        reject(new FramelogError(`git: cannot run (${(err as NodeJS.ErrnoException).code}); is git installed?`, 'git-missing'));
        return;
      }
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs `git` in `cwd`; throws a one-line {@link FramelogError} on a non-zero exit. */
export async function git(cwd: string, args: string[]): Promise<string> {
  const r = await gitTry(cwd, args);
  if (r.code !== 0) throw failure(cwd, args, r);
  return r.stdout;
}

/** Synchronous `git`, for the merge hook that must finish before the next merge starts. */
export function gitSync(cwd: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd, env: env(), maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (e) {
    const x = e as { status?: number; stdout?: Buffer; stderr?: Buffer };
    throw failure(cwd, args, { code: x.status ?? 1, stdout: x.stdout?.toString() ?? '', stderr: x.stderr?.toString() ?? String(e) });
  }
}
