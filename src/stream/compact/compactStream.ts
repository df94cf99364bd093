import { DurableEndWriter, durableEndFile } from '../durableEnd.js';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileLock } from '../../durable/fileLock.js';
import { parseInstant } from '../parseInstant.js';
import { StreamError } from '../StreamError.js';
import { streamPaths } from '../streamPaths.js';
import { ensureDir, fsyncDir, writeAll, writeFileDurable } from '../../durable/durableFs.js';
import { archiveDir, readManifest, writeManifest, type Manifest, type Segment } from './manifest.js';

export interface CompactOptions {
  /** Rotate only when the live file has at least this many bytes. */
  readonly maxBytes?: number;
  /** Rotate only when the live file's first record is older than this (by its `ts`). */
  readonly maxAgeMs?: number;
  /** Rotate only when the live file has at least this many records (caps its line count). */
  readonly maxLines?: number;
  /** After rotating, delete segments whose last record is older than this (listed as evicted in the manifest). */
  readonly evictOlderThanMs?: number;
  /** Gzip the segment (default true). */
  readonly gzip?: boolean;
  /** Test hook: called at each step, so a test can die there. */
  readonly onStep?: (step: CompactStep) => void;
  readonly now?: number;
}

export type CompactStep = 'recovered' | 'segment-written' | 'locked' | 'live-written' | 'manifest-written' | 'swapped';

export interface CompactResult {
  readonly stream: string;
  /** The new segment, or undefined when nothing was rotated. */
  readonly segment: Segment | undefined;
  /** What recovery undid from a compaction that died. */
  readonly recovered: string[];
  /** Segments deleted by eviction. */
  readonly evicted?: string[];
}

/**
 * Rotates the live file of stream `name` into a segment of `streams/archive/NAME/` (PROTOCOL §5),
 * keeping cursors valid through the manifest. Order, so that a crash anywhere loses nothing:
 * segment written and fsynced; the appenders' lock taken on the live file; records appended
 * meanwhile copied to a new file, fsynced; manifest written (naming both live files); the new
 * file renamed over the live one; lock released (appenders see the swap and reopen). A compaction
 * that died is undone first (see {@link recoverCompaction}).
 */
export function compactStream(storeDir: string, name: string, options: CompactOptions = {}): CompactResult {
  const paths = streamPaths(storeDir, name);
  const dir = archiveDir(storeDir, name);
  // An unknown stream is an error that changes nothing (a stream compacted before has its archive folder).
  if (!fs.existsSync(paths.file) && !fs.existsSync(dir)) throw new StreamError('NOT_FOUND', `compact: no stream ${JSON.stringify(name)} in ${paths.streamsDir} (neither ${paths.relativeFile} nor its archive exists)`);
  ensureDir(dir);
  const lockFd = fs.openSync(path.join(dir, '.compact.lock'), 'a');
  try {
    fileLock.waitSync(lockFd, 'ex'); // one compactor per stream
    const recovered = recoverCompaction(storeDir, name);
    options.onStep?.('recovered');
    let fd: number;
    try {
      fd = fs.openSync(paths.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { stream: name, segment: undefined, recovered, evicted: [] };
      throw err;
    }
    let segment: Segment | undefined;
    try {
      segment = rotate(storeDir, name, fd, options);
    } finally {
      fs.closeSync(fd);
    }
    const evicted = options.evictOlderThanMs === undefined ? [] : evictSegments(storeDir, name, (options.now ?? Date.now()) - options.evictOlderThanMs);
    return { stream: name, segment, recovered, evicted };
  } finally {
    fs.closeSync(lockFd); // releases the flock
  }
}

function rotate(storeDir: string, name: string, fd: number, options: CompactOptions): Segment | undefined {
  const paths = streamPaths(storeDir, name);
  const dir = archiveDir(storeDir, name);
  const st = fs.fstatSync(fd);
  const m: Manifest = readManifest(storeDir, name) ?? { stream: name, segments: [], live: { base: 0, ino: st.ino }, previous: null };
  if (m.live.ino !== st.ino) throw new StreamError('IO', `stream "${name}": live file inode ${st.ino} is not the manifest's ${m.live.ino} after recovery`);
  if (options.maxBytes !== undefined && st.size < options.maxBytes) return undefined;
  const head = Buffer.allocUnsafe(st.size);
  readAll(fd, head, 0);
  const P = head.lastIndexOf(10) + 1; // complete records only
  if (P === 0) return undefined;
  const bytes = head.subarray(0, P);
  let count = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) count++;
  if (options.maxLines !== undefined && count < options.maxLines) return undefined;
  if (options.maxAgeMs !== undefined) {
    const first = JSON.parse(bytes.toString('utf8', 0, bytes.indexOf(10))) as { ts?: unknown };
    const at = typeof first.ts === 'string' ? parseInstant(first.ts) : undefined;
    if (at === undefined || at > (options.now ?? Date.now()) - options.maxAgeMs) return undefined;
  }
  // 1. The segment, durable before anything else changes.
  const base = m.live.base;
  const gzip = options.gzip ?? true;
  const file = `${name}.${String(base).padStart(16, '0')}.ndjson${gzip ? '.gz' : ''}`;
  const lastStart = bytes.lastIndexOf(10, P - 2) + 1;
  const firstRecord = JSON.parse(bytes.toString('utf8', 0, bytes.indexOf(10))) as { ts?: unknown };
  const lastRecord = JSON.parse(bytes.toString('utf8', lastStart, P - 1)) as { chain?: unknown };
  const segment: Segment = {
    file, first: base, last: base + lastStart, end: base + P, count,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    chainAnchor: typeof lastRecord.chain === 'string' ? lastRecord.chain : null,
    firstTs: typeof firstRecord.ts === 'string' ? firstRecord.ts : null,
    lastTs: typeof (lastRecord as { ts?: unknown }).ts === 'string' ? ((lastRecord as { ts?: unknown }).ts as string) : null,
  };
  writeFileDurable(path.join(dir, file), gzip ? zlib.gzipSync(bytes) : bytes);
  options.onStep?.('segment-written');
  // 2. Under the appenders' lock: copy what arrived meanwhile into the new live file.
  fileLock.waitSync(fd, 'ex');
  try {
    options.onStep?.('locked');
    const end = fs.fstatSync(fd).size;
    const rest = Buffer.allocUnsafe(end - P);
    readAll(fd, rest, P);
    const tmp = liveTmp(storeDir, name);
    writeNewFile(tmp, rest);
    const newIno = fs.statSync(tmp).ino;
    options.onStep?.('live-written');
    // 3. The manifest names both live files: until the rename, readers still use the old one.
    writeManifest(storeDir, { stream: name, segments: [...m.segments, segment], live: { base: base + P, ino: newIno }, previous: { base, ino: st.ino } });
    options.onStep?.('manifest-written');
    // Followers of the new live file may publish all of it (written and synced whole above): the
    // durable-end marker names it before the swap, so no append to it can be published unsynced.
    const marker = new DurableEndWriter(durableEndFile(paths.streamsDir, name), paths.file, () => newIno);
    try {
      marker.mark(newIno, rest.length, true);
    } finally {
      marker.close();
    }
    // 4. The swap: appenders holding the old file find its name gone and reopen.
    fs.renameSync(tmp, paths.file);
    fsyncDir(paths.streamsDir);
    options.onStep?.('swapped');
  } finally {
    fileLock.release(fd);
  }
  return segment;
}

/**
 * Evicts by age: deletes each segment whose last record's `ts` is before `cutoff` (epoch ms) and
 * marks it `evicted` in the manifest first, so its range stays accounted for (cursors in it read
 * on from the next record; the chain restarts at its anchor). Returns the segment files deleted.
 */
function evictSegments(storeDir: string, name: string, cutoff: number): string[] {
  const m = readManifest(storeDir, name);
  if (!m) return [];
  const now = new Date().toISOString();
  const gone: string[] = [];
  let leading = true; // only a prefix of the history is evicted, so the chain restarts at one anchor
  const segments = m.segments.map((s) => {
    const last = s.lastTs ? parseInstant(s.lastTs) : undefined;
    if (s.evicted) return s;
    if (!leading || last === undefined || last >= cutoff) {
      leading = false;
      return s;
    }
    gone.push(s.file);
    return { ...s, evicted: now };
  });
  if (gone.length === 0) return [];
  writeManifest(storeDir, { ...m, segments }); // the manifest first: a crash leaves a file too many, never a hole
  for (const f of gone) fs.rmSync(path.join(archiveDir(storeDir, name), f), { force: true });
  fsyncDir(archiveDir(storeDir, name));
  return gone;
}

/**
 * Undoes what a compaction that died left half done: a manifest naming a new live file that was
 * never renamed into place (its last segment is dropped: the old live file still holds those
 * records), segment files the manifest does not list, and the temporary new live file.
 */
export function recoverCompaction(storeDir: string, name: string): string[] {
  const paths = streamPaths(storeDir, name);
  const dir = archiveDir(storeDir, name);
  const done: string[] = [];
  let m = readManifest(storeDir, name);
  const live = fs.statSync(paths.file, { throwIfNoEntry: false });
  if (m && live && live.ino !== m.live.ino) {
    if (!m.previous || m.previous.ino !== live.ino) {
      throw new StreamError('IO', `stream "${name}": the live file (inode ${live.ino}) is neither the manifest's live file nor its previous one: was ${paths.relativeFile} replaced by hand?`);
    }
    const prev = m.previous;
    m = { ...m, segments: m.segments.filter((s) => s.end <= prev.base), live: prev, previous: null };
    writeManifest(storeDir, m);
    done.push(`manifest: the swap never happened; live file is back at cursor ${prev.base}`);
  }
  const listed = new Set((m?.segments ?? []).filter((s) => !s.evicted).map((s) => s.file));
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (f === 'manifest.json' || f === '.compact.lock' || listed.has(f)) continue;
    if (f.startsWith(`${name}.`) || f.startsWith('.')) {
      fs.rmSync(path.join(dir, f), { force: true });
      done.push(`removed ${f}`);
    }
  }
  if (fs.existsSync(liveTmp(storeDir, name))) {
    fs.rmSync(liveTmp(storeDir, name));
    done.push('removed the unfinished new live file');
  }
  return done;
}

function liveTmp(storeDir: string, name: string): string {
  return path.join(streamPaths(storeDir, name).streamsDir, `.${name}.compact.tmp`);
}

/** Writes and fsyncs a file in place (its name is made durable by the rename that follows). */
function writeNewFile(file: string, data: Buffer): void {
  const fd = fs.openSync(file, 'w', 0o644);
  try {
    writeAll(fd, data, null);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function readAll(fd: number, buf: Buffer, position: number): void {
  for (let done = 0; done < buf.length; ) {
    const n = fs.readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new StreamError('IO', 'a stream file shrank during compaction');
    done += n;
  }
}
