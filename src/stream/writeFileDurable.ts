import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes a whole file so it is never seen half-written: a temp name in the same folder, fsync,
 * rename over `file`, fsync of the folder.
 */
export function writeFileDurable(file: string, data: Buffer | string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data, null);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}

/** Writes every byte of `buf`, looping over short writes; `position` null means the file position. */
export function writeAll(fd: number, buf: Buffer, position: number | null): void {
  let done = 0;
  while (done < buf.length) {
    const n = fs.writeSync(fd, buf, done, buf.length - done, position === null ? null : position + done);
    done += n;
  }
}

/** fsyncs a folder so a name created or renamed in it survives a power cut. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** `mkdir -p` that fsyncs each parent whose entry it created. */
export function ensureDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  ensureDir(path.dirname(dir));
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return;
  }
  fsyncDir(path.dirname(dir));
}
