import { readTextIfExists } from '../../durable/index.js';
import path from 'node:path';
import { StreamError } from '../StreamError.js';
import { streamPaths } from '../streamPaths.js';
import { ensureDir, writeFileDurable } from '../../durable/durableFs.js';

/** One compacted segment: the stream's bytes `[first, end)` as they were, gzipped. */
export interface Segment {
  /** File name inside `streams/archive/NAME/`. */
  readonly file: string;
  /** Cursor of its first record. */
  readonly first: number;
  /** Cursor of its last record. */
  readonly last: number;
  /** Cursor just after it: the first cursor of what follows. */
  readonly end: number;
  readonly count: number;
  /** SHA-256 of the uncompressed bytes. */
  readonly sha256: string;
  /** The `chain` value of its last record (hash-chained streams), so the chain can be checked across segments. */
  readonly chainAnchor: string | null;
  /** `ts` of its first and last records (null when absent), for eviction by age. */
  readonly firstTs?: string | null;
  readonly lastTs?: string | null;
  /** Set when an eviction deleted the file: its records are gone on purpose, its cursors read as empty. */
  readonly evicted?: string;
}

/** Where the live file starts in the stream's cursors, and which inode it is. */
export interface LiveFile {
  readonly base: number;
  readonly ino: number;
}

/**
 * `streams/archive/NAME/manifest.json`. Cursors are byte offsets in the stream's whole history:
 * a segment holds `[first, end)`, the live file `[live.base, …)`. `previous` is the live file
 * before the last compaction: while the path still names it (a compaction died before its swap)
 * readers use it and ignore segments past `previous.base`.
 */
export interface Manifest {
  readonly stream: string;
  readonly segments: readonly Segment[];
  readonly live: LiveFile;
  readonly previous: LiveFile | null;
}

export function archiveDir(storeDir: string, name: string): string {
  return path.join(streamPaths(storeDir, name).streamsDir, 'archive', name);
}

export function manifestFile(storeDir: string, name: string): string {
  return path.join(archiveDir(storeDir, name), 'manifest.json');
}

export function readManifest(storeDir: string, name: string): Manifest | undefined {
  return readManifestAt(streamPaths(storeDir, name).streamsDir, name);
}

/** {@link readManifest} given the `streams/` folder. */
export function readManifestAt(streamsDir: string, name: string): Manifest | undefined {
  const file = path.join(streamsDir, 'archive', name, 'manifest.json');
  const text = readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Manifest;
  } catch {
    throw new StreamError('IO', `${file} is not JSON: the compaction manifest was damaged; restore it from a backup (segments are listed by their first cursor in their names)`);
  }
}

export function writeManifest(storeDir: string, m: Manifest): void {
  ensureDir(archiveDir(storeDir, m.stream));
  writeFileDurable(manifestFile(storeDir, m.stream), JSON.stringify(m, null, 1) + '\n');
}

/**
 * The view of the stream that matches the live file with inode `ino`: its base and the segments
 * before it; undefined when the manifest does not know that inode (re-read it: a swap raced).
 */
export function resolveLive(m: Manifest | undefined, ino: number | undefined): { base: number; segments: readonly Segment[] } | undefined {
  if (!m) return { base: 0, segments: [] };
  if (ino === undefined || ino === m.live.ino) return { base: m.live.base, segments: m.segments };
  if (m.previous && ino === m.previous.ino) {
    const base = m.previous.base;
    return { base, segments: m.segments.filter((s) => s.end <= base) };
  }
  return undefined;
}
