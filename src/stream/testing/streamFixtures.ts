import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compiledForTests } from './compiledForTests.js';

const created: string[] = [];

/** A fresh store folder under the OS temp folder (removed by {@link removeStores}). */
export function givenEmptyStore(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `framelog-${label}-`));
  created.push(dir);
  return dir;
}

/** Removes every store folder this test file made (call from `afterAll`). */
export function removeStores(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Result of running the stream CLI. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `framelog <args>` (the stream commands only) as a child process, feeding `stdin`. */
export function runStreamCli(args: readonly string[], stdin?: Buffer | string, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const entry = path.join(compiledForTests(), 'stream/testing/streamProgram.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: 'pipe' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });
}

/** Runs async jobs with at most `limit` at a time. */
export async function inParallel<T>(items: readonly T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await job(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
