import fs from 'node:fs';
import path from 'node:path';
import { isStreamName } from './streamName.js';
import { tailStream } from './tailStream.js';

/** One stream of a store, as `framelog streams` shows it. */
export interface StreamInfo {
  readonly name: string;
  /** Complete lines (records, corrupt ones included). */
  readonly records: number;
  readonly bytes: number;
  /** `ts` of the last record, or null when the stream is empty or its last record has none. */
  readonly lastTs: string | null;
}

/**
 * Lists the streams of the store at `storeDir` (`streams/*.ndjson` with a valid name), by name.
 * Counting records reads each file once with `Buffer.indexOf`; the last time comes from its end.
 */
export function listStreams(storeDir: string): StreamInfo[] {
  const dir = path.join(storeDir, 'streams');
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: StreamInfo[] = [];
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith('.ndjson')) continue;
    const name = e.name.slice(0, -'.ndjson'.length);
    if (!isStreamName(name)) continue;
    const file = path.join(dir, e.name);
    const { lines, bytes } = countLines(file);
    const last = tailStream(file, 1).records[0];
    const ts = last?.record['ts'];
    out.push({ name, records: lines, bytes, lastTs: typeof ts === 'string' ? ts : null });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function countLines(file: string): { lines: number; bytes: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(4 << 20);
    let lines = 0;
    let bytes = 0;
    for (;;) {
      const got = fs.readSync(fd, chunk, 0, chunk.length, bytes);
      if (got === 0) break;
      for (let i = chunk.indexOf(10); i !== -1 && i < got; i = chunk.indexOf(10, i + 1)) lines++;
      bytes += got;
    }
    return { lines, bytes };
  } finally {
    fs.closeSync(fd);
  }
}
