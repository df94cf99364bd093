import fs from 'node:fs';
import type { JsonValue } from '../stream/index.js';
import type { Projection } from './Projection.js';
import { sourceFile } from './sourceRecords.js';
import { updateView, type UpdateViewOptions, type UpdateViewResult } from './updateView.js';

/**
 * Keeps view `p` current until `signal` aborts: updates once, then again whenever a source's folder
 * changes (fs.watch) or every `pollMs` (a missed event costs at most that long).
 */
export async function watchView<S extends JsonValue>(
  storeDir: string,
  p: Projection<S>,
  onUpdate: (r: UpdateViewResult<S>) => void,
  options: UpdateViewOptions & { signal: AbortSignal; pollMs?: number },
): Promise<void> {
  let wake: (() => void) | undefined;
  const poke = () => wake?.();
  const watchers: fs.FSWatcher[] = [];
  for (const dir of new Set(p.sources.map((s) => sourceFile(storeDir, s).replace(/[/\\][^/\\]*$/, '')))) {
    try {
      watchers.push(fs.watch(dir, poke));
    } catch {
      /* not there yet: polling covers it */
    }
  }
  options.signal.addEventListener('abort', poke);
  try {
    let first = true;
    while (!options.signal.aborted) {
      const r = await updateView(storeDir, p, first ? options : { ...options, rebuild: false });
      first = false;
      if (r.applied > 0 || r.rebuilt) onUpdate(r);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.pollMs ?? 500).unref();
      });
    }
  } finally {
    for (const w of watchers) w.close();
  }
}
