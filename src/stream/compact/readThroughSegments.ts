import { openIfExists } from '../../durable/index.js';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { scanStream } from '../scanStream.js';
import type { CorruptLine } from '../ScannedRecord.js';
import { StreamError } from '../StreamError.js';
import { streamPaths } from '../streamPaths.js';
import type { StreamRecord } from '../StreamRecord.js';
import { archiveDir, readManifest, resolveLive, type Segment } from './manifest.js';

export interface SegmentEntry {
  readonly record: StreamRecord;
  readonly cursor: number;
  readonly next: number;
  /** The line as stored, without its newline. */
  readonly line: string;
}

/**
 * Reads a stream from a cursor through its compacted segments, then its live file. The live file
 * is read through the descriptor that was matched to the manifest, so a compaction swapping
 * files meanwhile cannot make it read the wrong one.
 */
export async function* readThroughSegments(storeDir: string, name: string, from: number, onCorrupt?: (c: CorruptLine) => void): AsyncGenerator<SegmentEntry> {
  if (!Number.isSafeInteger(from) || from < 0) throw new StreamError('BAD_CURSOR', `cursor ${from} is not a byte offset (a whole number ≥ 0)`);
  const paths = streamPaths(storeDir, name);
  const { fd, base, segments } = openLive(storeDir, name, paths.file);
  try {
    for (const seg of segments) {
      if (seg.end <= from || seg.evicted) continue;
      yield* readSegment(storeDir, name, seg, from, onCorrupt);
    }
    if (fd === undefined) {
      if (from > base) throw new StreamError('BAD_CURSOR', `cursor ${from} is past the end of stream "${name}"`);
      return;
    }
    const start = Math.max(from, base) - base;
    const file = fs.existsSync(`/proc/self/fd/${fd}`) ? `/proc/self/fd/${fd}` : paths.file;
    try {
      for await (const r of scanStream(file, { from: start, ...(onCorrupt ? { onCorrupt } : {}) })) {
        yield { record: r.record, cursor: r.cursor + base, next: r.next + base, line: r.line };
      }
    } catch (err) {
      if (err instanceof StreamError && err.code === 'BAD_CURSOR') {
        if (/is past the end of/.test(err.message)) {
          throw new StreamError('BAD_CURSOR', `cursor ${from} is past the end of stream "${name}" (it ends at cursor ${base + fs.fstatSync(fd).size}): use a cursor a read or an append gave`);
        }
        throw new StreamError('BAD_CURSOR', `cursor ${from} does not start a record of stream "${name}" (${paths.relativeFile} starts at cursor ${base}): use a cursor a read or an append gave`);
      }
      throw err;
    }
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Opens the live file and finds the manifest view that matches its inode (retrying a raced swap). */
function openLive(storeDir: string, name: string, file: string): { fd: number | undefined; base: number; segments: readonly Segment[] } {
  for (let attempt = 0; ; attempt++) {
    const m = readManifest(storeDir, name);
    const fd = openIfExists(file);
    const view = resolveLive(m, fd === undefined ? undefined : fs.fstatSync(fd).ino);
    if (view) return { fd, ...view };
    if (fd !== undefined) fs.closeSync(fd);
    if (attempt >= 50) {
      throw new StreamError('IO', `stream "${name}": the live file's inode is not the one streams/archive/${name}/manifest.json names: run framelog compact ${name} to recover`);
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  }
}

/** The uncompressed bytes of a segment. */
export function segmentBytes(storeDir: string, name: string, seg: Segment): Buffer {
  const raw = fs.readFileSync(path.join(archiveDir(storeDir, name), seg.file));
  return seg.file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw;
}

async function* readSegment(storeDir: string, name: string, seg: Segment, from: number, onCorrupt?: (c: CorruptLine) => void): AsyncGenerator<SegmentEntry> {
  const buf = segmentBytes(storeDir, name, seg);
  let at = 0;
  let line = 0;
  if (from > seg.first) {
    if (seg.evicted) return;
    at = from - seg.first;
    if (buf[at - 1] !== 10) throw new StreamError('BAD_CURSOR', `cursor ${from} does not start a record of stream "${name}" (segment ${seg.file}): use a cursor a read or an append gave`);
  }
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    if (nl < 0) break;
    line++;
    const text = buf.toString('utf8', at, nl);
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      record = undefined;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      onCorrupt?.({ file: seg.file, line, offset: at, length: nl - at, reason: 'not a JSON object' });
    } else {
      yield { record: record as StreamRecord, cursor: seg.first + at, next: seg.first + nl + 1, line: text };
    }
    at = nl + 1;
  }
}
