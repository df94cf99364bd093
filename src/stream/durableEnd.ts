import fs from 'node:fs';
import path from 'node:path';
import { fileLock } from '../durable/fileLock.js';

/**
 * The durable end of a stream's live file: `streams/.NAME.durable`, 16 bytes, the live file's inode
 * and the length of it that is on disk (float64, little-endian). Appenders move it forward after
 * each `fdatasync` returns (a `none` appender after each write), under an `flock` of the marker,
 * never backward and never for a file no longer on the path; compaction sets it for the new live
 * file it installs (written and synced whole). Followers (SSE, `tail -f`) publish only what lies
 * before it, so a record is never pushed to a client before it is durable, and a record whose sync
 * failed (and was cut back) is never pushed at all. The marker is not synced itself: after a power
 * cut it may lag (records then wait for the next append), never lead, the data it names having
 * been synced before it was written.
 */
export function durableEndFile(streamsDir: string, name: string): string {
  return path.join(streamsDir, `.${name}.durable`);
}

/** The marker of the stream whose live file is `liveFile` (`streams/NAME.ndjson`). */
export function durableEndFileOf(liveFile: string): string {
  return durableEndFile(path.dirname(liveFile), path.basename(liveFile, '.ndjson'));
}

const SIZE = 16;

/** Moves a stream's durable end forward (one appender or compactor; keeps the marker open). */
export class DurableEndWriter {
  private fd: number | undefined;
  private readonly buf = Buffer.alloc(SIZE);

  constructor(
    readonly file: string,
    /** The live file's path: a mark for an inode no longer on it is dropped. */
    private readonly live: string,
    /** The inode a compaction installs (its manifest's live file), read only when the marker names another file than ours. */
    private readonly installed: () => number | undefined,
  ) {}

  /**
   * Records that the live file of inode `ino` is durable up to `end` bytes: a no-op when the marker
   * says as much or more. A marker naming another file is taken over only when ours is on the path
   * and the other is not the one a compaction installs; `force` (the compactor, under the
   * appenders' lock, before its swap) takes it over always.
   */
  mark(ino: number, end: number, force = false): void {
    this.fd ??= fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    const fd = this.fd;
    // Most marks under contention are already covered by another appender's later sync: a read
    // without the lock skips them (a stale read only sends us to the locked path below).
    if (!force && fs.readSync(fd, this.buf, 0, SIZE, 0) === SIZE && this.buf.readDoubleLE(0) === ino && this.buf.readDoubleLE(8) >= end) return;
    if (!fileLock.try(fd, 'ex')) fileLock.waitSync(fd, 'ex');
    try {
      const got = fs.readSync(fd, this.buf, 0, SIZE, 0);
      if (!force && got === SIZE) {
        const named = this.buf.readDoubleLE(0);
        if (named === ino) {
          if (this.buf.readDoubleLE(8) >= end) return;
        } else if (named === this.installed() || fs.statSync(this.live, { throwIfNoEntry: false })?.ino !== ino) {
          return;
        }
      }
      this.buf.writeDoubleLE(ino, 0);
      this.buf.writeDoubleLE(end, 8);
      fs.writeSync(fd, this.buf, 0, SIZE, 0);
    } finally {
      fileLock.release(fd);
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * What a follower may publish of the live file of inode `ino`: its durable end, or Infinity when
 * the stream has no marker (a store from before markers, or a file replaced by hand: as before,
 * every complete line) or the marker names another inode than the live file's.
 */
export function readDurableEnd(file: string, ino: number): number {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Infinity;
    throw err;
  }
  try {
    const buf = Buffer.alloc(SIZE);
    if (fs.readSync(fd, buf, 0, SIZE, 0) !== SIZE) return Infinity;
    return buf.readDoubleLE(0) === ino ? buf.readDoubleLE(8) : Infinity;
  } finally {
    fs.closeSync(fd);
  }
}
