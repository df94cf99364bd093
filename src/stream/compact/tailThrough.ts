import { openIfExists } from '../../durable/index.js';
import fs from 'node:fs';
import path from 'node:path';
import type { CorruptLine, ScannedRecord } from '../ScannedRecord.js';
import { StreamError } from '../StreamError.js';
import { streamPaths } from '../streamPaths.js';
import { tailStream } from '../tailStream.js';
import { readManifest, resolveLive } from './manifest.js';
import { readThroughSegments } from './readThroughSegments.js';

/**
 * The last `n` records of a stream with stream cursors: from the live file (read backwards), and
 * from its compacted segments when the live file holds fewer. `end` is the cursor to follow from.
 */
export async function tailThrough(storeDir: string, name: string, n: number, onCorrupt?: (c: CorruptLine) => void): Promise<{ records: ScannedRecord[]; end: number }> {
  const file = streamPaths(storeDir, name).file;
  for (let attempt = 0; attempt < 50; attempt++) {
    const m = readManifest(storeDir, name);
    const fd = openIfExists(file);
    try {
      const view = resolveLive(m, fd === undefined ? undefined : fs.fstatSync(fd).ino);
      if (!view) continue;
      const live = fd === undefined ? { records: [], end: 0 } : tailStream(fs.existsSync(`/proc/self/fd/${fd}`) ? `/proc/self/fd/${fd}` : file, n, onCorrupt ? { onCorrupt } : {});
      const shift = (r: ScannedRecord): ScannedRecord => ({ ...r, cursor: r.cursor + view.base, next: r.next + view.base });
      let records = live.records.map(shift);
      for (let i = view.segments.length - 1; i >= 0 && records.length < n; i--) {
        const seg = view.segments[i]!;
        if (seg.evicted) break;
        const older: ScannedRecord[] = [];
        for await (const e of readThroughSegments(storeDir, name, seg.first)) {
          if (e.cursor >= seg.end) break;
          older.push(e);
        }
        records = older.slice(Math.max(0, older.length - (n - records.length))).concat(records);
      }
      return { records, end: live.end + view.base };
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  throw new StreamError('IO', `stream "${name}": the live file is not the one streams/archive/${name}/manifest.json names: run framelog compact ${name} to recover`);
}

/**
 * Follows a stream from a stream cursor, forever (until `signal` aborts), through compactions:
 * a swapped live file is picked up at the same stream cursor, so nothing is read twice. Without
 * a manifest, a file replaced by hand or cut shorter is read again from its start (`onRestart`).
 */
export async function* followThrough(
  storeDir: string,
  name: string,
  options: { from?: number; signal?: AbortSignal; pollMs?: number; onCorrupt?: (c: CorruptLine) => void; onRestart?: (why: 'replaced' | 'truncated') => void } = {},
): AsyncGenerator<ScannedRecord, void, undefined> {
  const file = streamPaths(storeDir, name).file;
  let cursor = options.from ?? 0;
  let lastIno: number | undefined;
  let poke: (() => void) | undefined;
  let dirty = false;
  const fire = () => (poke ? (poke(), (poke = undefined)) : (dirty = true));
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(path.dirname(file), { persistent: false }, fire);
    watcher.on('error', () => undefined);
  } catch {
    /* polling covers it */
  }
  options.signal?.addEventListener('abort', fire);
  try {
    while (!options.signal?.aborted) {
      const st = fs.statSync(file, { throwIfNoEntry: false });
      const m = readManifest(storeDir, name);
      if (st && !m && lastIno !== undefined && st.ino !== lastIno) {
        cursor = 0;
        options.onRestart?.('replaced');
      }
      if (st) lastIno = st.ino;
      if (st || m) {
        try {
          for await (const e of readThroughSegments(storeDir, name, cursor, options.onCorrupt)) {
            cursor = e.next;
            yield e;
          }
        } catch (err) {
          if (!(err instanceof StreamError && err.code === 'BAD_CURSOR') || m) throw err;
          cursor = 0;
          options.onRestart?.('truncated');
          continue;
        }
      }
      if (dirty) {
        dirty = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          poke = undefined;
          resolve();
        }, options.pollMs ?? 250);
        poke = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    watcher?.close();
    options.signal?.removeEventListener('abort', fire);
  }
}
