import fs from 'node:fs';
import path from 'node:path';
import { ensureDir, fsyncDir, writeAll, writeFileDurable } from '../durable/durableFs.js';

/** Where a fragment cut from a stream came from: written beside it as `.why.json`. */
export interface FragmentReport {
  readonly stream: string;
  /** The stream file relative to the store, e.g. `streams/audit.ndjson`. */
  readonly file: string;
  readonly inode: number;
  /** Byte offset in the stream where the fragment started. */
  readonly offset: number;
  readonly length: number;
  /** When it was cut (RFC 3339 UTC). */
  readonly time: string;
  readonly reason: string;
  /** The quarantined bytes, relative to the store. */
  readonly bytes: string;
}

/**
 * Copies bytes `[offset, end)` of the open stream `fd` (a torn tail: a writer stopped mid-record)
 * into `quarantineDir` as `NAME.<inode>.<offset>.fragment` plus a `.why.json` report, both durable
 * before it returns, so the caller may then cut them from the stream. The name is stable, so
 * repeating the move after a crash overwrites the same copy.
 */
export function quarantineFragment(
  fd: number,
  offset: number,
  end: number,
  where: { stream: string; file: string; inode: number; quarantineDir: string },
): FragmentReport {
  ensureDir(where.quarantineDir);
  const base = `${where.stream}.${where.inode}.${offset}`;
  const target = path.join(where.quarantineDir, `${base}.fragment`);
  const tmp = path.join(where.quarantineDir, `.${base}.${process.pid}.tmp`);
  const out = fs.openSync(tmp, 'w', 0o644);
  try {
    const chunk = Buffer.allocUnsafe(Math.min(end - offset, 1 << 20));
    for (let pos = offset; pos < end; ) {
      const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, end - pos), pos);
      if (n === 0) break;
      writeAll(out, chunk.subarray(0, n), null);
      pos += n;
    }
    fs.fsyncSync(out);
  } finally {
    fs.closeSync(out);
  }
  fs.renameSync(tmp, target);
  fsyncDir(where.quarantineDir);
  const report: FragmentReport = {
    stream: where.stream,
    file: where.file,
    inode: where.inode,
    offset,
    length: end - offset,
    time: new Date().toISOString(),
    reason: 'torn write: bytes after the last newline, left by a writer that stopped mid-record',
    bytes: `quarantine/streams/${base}.fragment`,
  };
  writeFileDurable(path.join(where.quarantineDir, `${base}.why.json`), JSON.stringify(report) + '\n');
  return report;
}
