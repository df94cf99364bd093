import { closeSync, existsSync, mkdirSync, fdatasyncSync, fsyncSync, ftruncateSync, linkSync, openSync, readSync, renameSync, unlinkSync, writeSync, fstatSync, constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { dropTemp } from './sweepTemps.js';

/** fsyncs a directory, so that names created, renamed or removed in it survive a power loss. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `data` to `fd`, looping over short writes; no `position` (or null): at the file's position. */
export function writeAll(fd: number, data: Uint8Array, position?: number | null): void {
  let off = 0;
  while (off < data.length) {
    const n = writeSync(fd, data, off, data.length - off, position === undefined || position === null ? null : position + off);
    off += n;
  }
}

/** `mkdir -p` that fsyncs each parent whose entry it created, so the folders survive a power cut. */
export function ensureDir(dir: string): void {
  if (existsSync(dir)) return;
  ensureDir(dirname(dir));
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return;
  }
  fsyncDir(dirname(dir));
}

/** A temp name beside `path` that `merge` never reads (it starts with `.`). */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Flags that create a new file: `'wx'` without its `O_TRUNC`, which on ext4 (`auto_da_alloc`)
 * starts a writeback of the file when it is closed, on top of the sync the caller makes anyway.
 */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

/**
 * Creates `path` (refusing an existing one), writes all of `data` and syncs it: `fsync`, or
 * `fdatasync` with `dataOnly` (enough for a file whose name the caller syncs into its folder).
 */
export function writeNewFileSynced(path: string, data: Uint8Array, { dataOnly = false } = {}): void {
  const fd = openSync(path, CREATE_NEW, 0o644);
  try {
    writeAll(fd, data);
    if (dataOnly) fdatasyncSync(fd);
    else fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` atomically: temp file, fsync, rename, fsync of the directory. Readers see the
 * old file or the new one, never a part.
 */
export function writeFileDurable(path: string, data: string | Uint8Array): void {
  const tmp = tempNameFor(path);
  try {
    writeNewFileSynced(tmp, typeof data === 'string' ? Buffer.from(data) : data);
    renameSync(tmp, path);
  } catch (e) {
    dropTemp(tmp, e); // a failed write leaves no temp behind (one that a crash leaves, sweepTemps removes)
    throw e;
  }
  fsyncDir(dirname(path));
}

/**
 * Creates `path` with `data` without ever replacing a file: temp file, fsync, link into place,
 * unlink the temp. Returns false when `path` already exists (nothing written).
 */
export function createFileDurable(path: string, data: Uint8Array, { syncDir = true } = {}): boolean {
  const tmp = tempNameFor(path);
  try {
    writeNewFileSynced(tmp, data);
    linkSync(tmp, path);
  } catch (e) {
    dropTemp(tmp, e);
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    unlinkSync(tmp);
    if (syncDir) fsyncDir(dirname(path));
  } catch (e) {
    // All or nothing: the file was linked in, but the call fails, so it is taken out again (a temp
    // that could not be removed is swept by a later start, its writer gone).
    try {
      unlinkSync(path);
    } catch (undo) {
      if ((undo as NodeJS.ErrnoException).code !== 'ENOENT' && e instanceof Error) e.message += ` (and removing ${path} again failed: ${(undo as Error).message}; it may stay)`;
    }
    throw e;
  }
  return true;
}

const NOATIME = constants.O_NOATIME ?? 0;
let noatimeRefused = false;

/** A file over the size its reader accepts: nothing of it was read. */
export class FileTooLarge extends Error {
  constructor(readonly path: string, readonly size: number, readonly limit: number) {
    super(`${path} is ${size} bytes, over ${limit}`);
  }
}

/**
 * Reads a whole file without touching its access time (`O_NOATIME`, where the system allows it:
 * the caller must own the file). A merger reads every inbox file once; on a filesystem mounted
 * `relatime`, the first read of a new file dirties its inode, and the journal commit that follows
 * makes removing the file after the merge several times slower. A file over `maxBytes` (its size
 * when opened) throws {@link FileTooLarge} before a byte is read.
 */
export function readFileNoAtime(path: string, maxBytes = Number.MAX_SAFE_INTEGER): Buffer {
  let fd: number;
  try {
    fd = openSync(path, noatimeRefused ? constants.O_RDONLY : constants.O_RDONLY | NOATIME);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM' || noatimeRefused) throw e;
    noatimeRefused = true; // a file of another user: plain reads from now on
    fd = openSync(path, constants.O_RDONLY);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new FileTooLarge(path, size, maxBytes);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    // A file that grew since fstat (a writer still appending) is read to its end.
    if (got === size) {
      const more: Buffer[] = [];
      for (;;) {
        const chunk = Buffer.allocUnsafe(65536);
        const n = readSync(fd, chunk, 0, chunk.length, got);
        if (n === 0) break;
        more.push(chunk.subarray(0, n));
        got += n;
      }
      if (more.length > 0) return Buffer.concat([buf, ...more]);
    }
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Appends text to a file with one `write` and `fdatasync`: acknowledged once durable. */
export function appendDurable(path: string, text: string): void {
  if (text.length === 0) return;
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
  try {
    const before = fstatSync(fd).size;
    try {
      writeAll(fd, Buffer.from(text));
      fdatasyncSync(fd);
    } catch (e) {
      // A write or sync that failed must not leave its bytes readable (fsyncgate: a failed sync
      // may drop the pages later and report nothing): cut back to where it started, and sync that.
      try {
        ftruncateSync(fd, before);
        fdatasyncSync(fd);
      } catch (cut) {
        if (e instanceof Error) e.message += ` (and cutting ${path} back to ${before} bytes failed: ${(cut as Error).message})`;
      }
      if (e instanceof Error && !e.message.includes(path)) e.message += ` (appending to ${path}: nothing of it kept)`;
      throw e;
    }
  } finally {
    closeSync(fd);
  }
}

/** Cuts a file back to `size` bytes (durably); no-op when it is already that short or missing. */
export function truncateDurable(path: string, size: number): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    if (fstatSync(fd).size > size) {
      ftruncateSync(fd, size);
      fsyncSync(fd);
    }
  } finally {
    closeSync(fd);
  }
}

/** Moves `from` to `to` without replacing anything at `to`; returns false if `to` exists. */
export function moveNoReplace(from: string, to: string): boolean {
  try {
    linkSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  unlinkSync(from);
  return true;
}
