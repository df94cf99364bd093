import fs from 'node:fs';
import path from 'node:path';
import { canonicalJson } from '../delta/canonicalJson.js';
import type { JsonValue as DeltaJson } from '../delta/types.js';
import { StreamError, type JsonValue } from '../stream/index.js';
import { ensureDir, writeFileDurable } from '../durable/durableFs.js';
import { definitionHash, type Projection } from './Projection.js';
import { liveSourceReader, type SourceReader } from './sourceRecords.js';

/** `views/NAME.json`: the projection's output with the checkpoint it is current to. */
export interface StoredView<S extends JsonValue = JsonValue> {
  readonly view: string;
  readonly version: number;
  readonly definition: string;
  /** Per source: the cursor to resume from. */
  readonly checkpoint: Record<string, number>;
  readonly state: S;
}

export interface UpdateViewOptions {
  /** Ignore the stored view and rebuild from the start of every source. */
  readonly rebuild?: boolean;
  readonly reader?: SourceReader;
}

export interface UpdateViewResult<S extends JsonValue> {
  readonly view: StoredView<S>;
  readonly file: string;
  /** Why it was rebuilt from scratch, if it was. */
  readonly rebuilt: 'missing' | 'definition' | 'requested' | 'unreadable' | 'cursor' | undefined;
  /** Records applied by this call. */
  readonly applied: number;
}

/** Where view `name` is stored. */
export function viewFile(storeDir: string, name: string): string {
  return path.join(storeDir, 'views', `${name}.json`);
}

/**
 * Brings view `p` up to date: from its stored checkpoint when the stored definition matches,
 * else from scratch (a changed version or code, a deleted or unreadable file, a cursor that no
 * longer resolves). Writes the file (canonical JSON, atomically) when anything changed.
 */
export async function updateView<S extends JsonValue>(storeDir: string, p: Projection<S>, options: UpdateViewOptions = {}): Promise<UpdateViewResult<S>> {
  const file = viewFile(storeDir, p.name);
  const definition = definitionHash(p as unknown as Projection<JsonValue>);
  let rebuilt: UpdateViewResult<S>['rebuilt'];
  let stored: StoredView<S> | undefined;
  if (options.rebuild) rebuilt = 'requested';
  else {
    try {
      stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredView<S>;
      if (stored.definition !== definition || stored.view !== p.name) {
        stored = undefined;
        rebuilt = 'definition';
      }
    } catch (err) {
      rebuilt = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
    }
  }
  const reader = options.reader ?? liveSourceReader;
  for (;;) {
    let state = stored ? stored.state : p.initialState();
    const checkpoint: Record<string, number> = {};
    let applied = 0;
    try {
      for (const source of p.sources) {
        let at = stored?.checkpoint[source] ?? 0;
        for await (const { record, next } of reader(storeDir, source, at)) {
          state = p.evolve(state, record, source);
          at = next;
          applied++;
        }
        checkpoint[source] = at;
      }
    } catch (err) {
      if (err instanceof StreamError && err.code === 'BAD_CURSOR' && stored) {
        stored = undefined; // the source was replaced under the checkpoint: start over
        rebuilt = 'cursor';
        continue;
      }
      throw err;
    }
    const view: StoredView<S> = { view: p.name, version: p.version, definition, checkpoint, state };
    if (applied > 0 || stored === undefined) {
      ensureDir(path.dirname(file));
      writeFileDurable(file, canonicalJson(view as unknown as DeltaJson) + '\n');
    }
    return { view, file, rebuilt, applied };
  }
}
