import { openIfExists } from '../durable/index.js';
import fs from 'node:fs';
import path from 'node:path';
import { readManifest, resolveLive, type Segment } from './compact/manifest.js';
import { isStreamName } from './streamName.js';
import { tailStream } from './tailStream.js';

/** One stream of a store, as `framelog streams` shows it. */
export interface StreamInfo {
  readonly name: string;
  /**
   * Records the stream still holds: complete lines of the live file (corrupt ones included) plus
   * the records of its compacted segments. Segments deleted by eviction are not counted: their
   * records are gone.
   */
  readonly records: number;
  /** Bytes of those records, uncompressed: the live file's size plus each segment kept (`end - first`). */
  readonly bytes: number;
  /** `ts` of the last record, or null when the stream holds none or its last record has none. */
  readonly lastTs: string | null;
}

/**
 * Lists the streams of the store at `storeDir`, by name: each `streams/NAME.ndjson` with a valid
 * name, and each stream compacted into `streams/archive/NAME/` (PROTOCOL §5), its live file
 * missing or not. Counting reads each live file once with `Buffer.indexOf` and takes the
 * segments' counts from the manifest; the last time comes from the live file's end, or from the
 * last segment when the live file holds no record.
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
  const names = new Set<string>();
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith('.ndjson')) continue;
    const name = e.name.slice(0, -'.ndjson'.length);
    if (isStreamName(name)) names.add(name);
  }
  for (const name of compactedNames(path.join(dir, 'archive'))) names.add(name);
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((name) => streamInfo(storeDir, dir, name));
}

/** Streams with a compaction manifest (`streams/archive/NAME/manifest.json`). */
function compactedNames(archive: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(archive, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
  return entries.filter((e) => e.isDirectory() && isStreamName(e.name) && fs.existsSync(path.join(archive, e.name, 'manifest.json'))).map((e) => e.name);
}

function streamInfo(storeDir: string, dir: string, name: string): StreamInfo {
  const file = path.join(dir, `${name}.ndjson`);
  const fd = openIfExists(file);
  try {
    const m = readManifest(storeDir, name);
    // The segments before the file we opened (a compaction may be swapping files meanwhile).
    const segments = (m ? resolveLive(m, fd === undefined ? undefined : fs.fstatSync(fd).ino)?.segments ?? m.segments : []).filter((s) => !s.evicted);
    let records = segments.reduce((n, s) => n + s.count, 0);
    let bytes = segments.reduce((n, s) => n + (s.end - s.first), 0);
    let lastTs = lastSegmentTs(segments);
    if (fd !== undefined) {
      const live = countLines(fd);
      records += live.lines;
      bytes += live.bytes;
      const last = tailStream(fs.existsSync(`/proc/self/fd/${fd}`) ? `/proc/self/fd/${fd}` : file, 1).records[0];
      if (last) lastTs = typeof last.record['ts'] === 'string' ? last.record['ts'] : null;
    }
    return { name, records, bytes, lastTs };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function lastSegmentTs(segments: readonly Segment[]): string | null {
  const last = segments[segments.length - 1];
  return typeof last?.lastTs === 'string' ? last.lastTs : null;
}

function countLines(fd: number): { lines: number; bytes: number } {
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
}
