import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { archiveDir, readManifest, resolveLive, type Segment } from '../../stream/compact/manifest.js';
import { segmentBytes } from '../../stream/compact/readThroughSegments.js';
import { StreamError } from '../../stream/StreamError.js';

const gunzip = promisify(zlib.gunzip);

/** Where a live file sits in its stream's cursors (PROTOCOL §5 `streams/archive/NAME/manifest.json`). */
export interface LiveView {
  /** Stream cursor of the file's byte 0 (0 without a manifest). */
  readonly base: number;
  /** True when the stream has a manifest: a new live file is then a compaction's, not a reset. */
  readonly compacted: boolean;
}

/** The bytes of a compacted segment `[first, end)`; `bytes` is undefined when eviction deleted them. */
export interface SegmentBytes {
  readonly first: number;
  readonly end: number;
  readonly bytes: Buffer | undefined;
}

/**
 * What a stream tail needs of the compaction manifest: the base of a live file (by inode) and
 * the compacted bytes before it. One per followed stream, shared by its clients (the last
 * segment read is cached, so clients replaying the same history unzip it once).
 */
export interface StreamHistory {
  /** The view of the live file with inode `ino` (undefined: no live file); undefined when the manifest does not name that inode. */
  view(ino: number | undefined): LiveView | undefined;
  /** The segment holding stream cursor `cursor`, or undefined when no segment does. */
  segmentAt(cursor: number): Promise<SegmentBytes | undefined>;
  /** {@link segmentAt}, read now (unzipped on the spot, not cached): for the tail's rare catch-up across two compactions. */
  segmentNow(cursor: number): SegmentBytes | undefined;
  /** True when `cursor`, below the live file, is where a compacted record starts (any cursor of an evicted segment reads on from its end). */
  startsRecord(cursor: number): Promise<boolean>;
}

/** The {@link StreamHistory} of stream `name` of the store at `storeDir`. */
export function streamHistory(storeDir: string, name: string): StreamHistory {
  let cached: { key: string; bytes: Promise<Buffer> } | undefined;
  const load = (seg: Segment): Promise<Buffer> => {
    const key = `${seg.file} ${seg.sha256}`; // a recovered compaction may write the same name again
    if (cached?.key !== key) {
      const file = path.join(archiveDir(storeDir, name), seg.file);
      const bytes = fs.promises.readFile(file).then((raw) => (seg.file.endsWith('.gz') ? gunzip(raw) : raw));
      bytes.catch(() => {
        if (cached?.bytes === bytes) cached = undefined; // a failed read is not kept
      });
      cached = { key, bytes };
    }
    return cached.bytes;
  };
  const find = (cursor: number): Segment | undefined => readManifest(storeDir, name)?.segments.find((s) => s.first <= cursor && cursor < s.end);
  const history: StreamHistory = {
    view(ino) {
      const m = readManifest(storeDir, name);
      const v = resolveLive(m, ino);
      return v && { base: v.base, compacted: m !== undefined };
    },
    async segmentAt(cursor) {
      const seg = find(cursor);
      if (!seg) return undefined;
      if (seg.evicted) return { first: seg.first, end: seg.end, bytes: undefined };
      try {
        return { first: seg.first, end: seg.end, bytes: await load(seg) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        if (find(cursor)?.evicted) return { first: seg.first, end: seg.end, bytes: undefined }; // evicted while we looked
        throw new StreamError('IO', `streams/archive/${name}/${seg.file} is missing but manifest.json lists it: restore it, or run framelog verify`);
      }
    },
    segmentNow(cursor) {
      const seg = find(cursor);
      if (!seg) return undefined;
      return { first: seg.first, end: seg.end, bytes: seg.evicted ? undefined : segmentBytes(storeDir, name, seg) };
    },
    async startsRecord(cursor) {
      const seg = await history.segmentAt(cursor);
      if (!seg) return false;
      return seg.bytes === undefined || cursor === seg.first || seg.bytes[cursor - seg.first - 1] === 10;
    },
  };
  return history;
}
