import { spawn } from 'node:child_process';
import { FramelogError } from '../../../errors.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { scanStream } from '../../../stream/scanStream.js';
import { compiledPath } from '../../shard/compiledPath.js';

/** What the naive shared file kept of the same acknowledged work. */
export interface NaiveReport {
  file: string;
  /** Updates made (one per acknowledged item). */
  expected: number;
  /** `items_done` in the file at the end. */
  final: number;
  lost: number;
}

const MAIN = new URL('../../../cli/main.js', import.meta.url);

/**
 * Replays the fleet's acknowledged work (the `ok` receipts, per agent) through the naive pattern:
 * one process per agent, each reading, updating and writing back one shared `state.json`.
 */
export async function runNaiveComparison(file: string, storeDir: string, agents: number): Promise<NaiveReport> {
  const perAgent: number[][] = Array.from({ length: agents }, () => []);
  try {
    for await (const r of scanStream(join(storeDir, 'streams', 'receipts.ndjson'))) {
      if (r.record.status !== 'ok') continue;
      const a = Number(String(r.record.agent).replace('agent-', ''));
      perAgent[a]?.push(Number(r.record.tokens));
    }
  } catch {
    // no receipts: nothing to replay
  }
  rmSync(file, { force: true });
  const expected = perAgent.reduce((s, l) => s + l.length, 0);
  await Promise.all(perAgent.map((updates, worker) => new Promise<void>((res, rej) => {
    const child = spawn(process.execPath, [compiledPath(MAIN), '_fleet-naive', JSON.stringify({ file, updates, worker })], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? res() : rej(new FramelogError(`naive worker ${worker} exited ${code}`, 'worker-failed'))));
  })));
  const final = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { items_done: number }).items_done : 0;
  return { file, expected, final, lost: expected - final };
}
