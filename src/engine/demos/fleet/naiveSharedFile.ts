import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** What one naive worker process is told. */
export interface NaiveWorkerConfig {
  file: string;
  /** Updates to make: each adds `tokens` to the counters, one unit of work each. */
  updates: number[];
  worker: number;
}

const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * The naive way, for comparison: read the shared `state.json`, do the unit of work (a short
 * "model call"), add to the counters, write the file back (atomically, so it is never torn —
 * updates are lost all the same when two workers overlap).
 */
export async function runNaiveWorker(c: NaiveWorkerConfig): Promise<void> {
  for (const tokens of c.updates) {
    let state: { items_done: number; tokens: number };
    try {
      state = JSON.parse(readFileSync(c.file, 'utf8'));
    } catch {
      state = { items_done: 0, tokens: 0 };
    }
    pause(1 + (tokens % 3)); // the model call, between read and write
    state.items_done += 1;
    state.tokens += tokens;
    const tmp = `${c.file}.${c.worker}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, c.file);
  }
}
