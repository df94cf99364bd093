import fs from 'node:fs';
import { DEFAULT_MAX_RECORD_BYTES, encodeRecords } from './encodeRecords.js';
import { fileLock } from '../durable/fileLock.js';
import { quarantineFragment, type FragmentReport } from './quarantineFragment.js';
import { readManifestAt, resolveLive } from './compact/manifest.js';
import { chainHash } from './compact/verifyStreamChain.js';
import { checkRecordsForAppend, loadStreamSchema, type StreamSchema } from './schema/streamSchema.js';
import { StreamError } from './StreamError.js';
import { streamPaths, type StreamPaths } from './streamPaths.js';
import type { StreamRecordInput } from './StreamRecord.js';
import { ensureDir, fsyncDir, writeAll } from '../durable/durableFs.js';
import { DurableEndWriter, durableEndFile } from './durableEnd.js';

/**
 * When an append resolves:
 * - `fsync` (default): after an `fdatasync` of its own write (made on the calling thread, like
 *   sonic-boom's `fsync: true`: the event loop waits for the disk, no worker hop is paid);
 * - `batch`: group commit: appends waiting at the same time share one write and one
 *   `fdatasync`; each resolves only once durable. Across processes the filesystem journal joins
 *   concurrent `fdatasync`s into one commit (a userspace cross-process leader was measured
 *   slower: it serialises the syncs the kernel would have merged);
 * - `none`: once written to the kernel (survives the process, not a power cut).
 */
export type Durability = 'fsync' | 'batch' | 'none';

export interface StreamAppenderOptions {
  readonly durability?: Durability;
  /** Largest record, in UTF-8 bytes without its newline (default 16 MiB). */
  readonly maxRecordBytes?: number;
  /** In `batch` and `none` modes, waiting appends are joined into writes of at most this many bytes (default 64 MiB); one append is never split. */
  readonly maxWriteBytes?: number;
  /** Told about each torn tail moved to `quarantine/streams/` before an append. */
  readonly onFragment?: (report: FragmentReport) => void;
  /** The stream's schema (default: `streams.NAME` of the store's `framelog.json`, if any); false: no check. */
  readonly schema?: StreamSchema | false;
}

/** Where an append landed: `cursor` is the byte offset of its first record, `next` the offset after its last. */
export interface AppendResult {
  readonly cursor: number;
  readonly next: number;
  readonly count: number;
}

/** The one owner of a stream's file descriptor in this process (see {@link openStreamAppender}). */
export interface StreamAppender {
  readonly name: string;
  readonly file: string;
  readonly durability: Durability;
  /** Appends one record (`ts` added when absent). */
  append(record: StreamRecordInput): Promise<AppendResult>;
  /** Appends records as one `write`, all or none: they land together, in order, unbroken. */
  appendBatch(records: readonly StreamRecordInput[]): Promise<AppendResult>;
  /** Waits for pending appends, then releases the file descriptors. */
  close(): Promise<void>;
}

interface Pending {
  readonly buf: Buffer;
  readonly count: number;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Opens stream `name` of the store at `storeDir` for appending (creating `streams/NAME.ndjson`).
 * Every write happens under an exclusive `flock` of the stream, after checking that the file ends
 * in a newline (a torn tail left by a killed writer is moved to `quarantine/streams/` first) and
 * that the path still names the open file (it is reopened after a replacement).
 */
export function openStreamAppender(storeDir: string, name: string, options: StreamAppenderOptions = {}): StreamAppender {
  const schema = options.schema === false ? undefined : (options.schema ?? loadStreamSchema(storeDir, name));
  return new Appender(streamPaths(storeDir, name), name, options, schema);
}

class Appender implements StreamAppender {
  readonly durability: Durability;
  readonly file: string;
  private fd: number;
  private readonly maxRecordBytes: number;
  private readonly maxWriteBytes: number;
  private readonly queue: Pending[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly tail = Buffer.alloc(1);
  /** Size of the open file right after our last write (-1: unknown). */
  private ourEnd = -1;
  /** Stream cursor of the open file's first byte (compaction moves it; -1: not yet read). */
  private base = -1;
  /** Where followers learn how much of the live file is durable (see durableEnd.ts). */
  private readonly durableEnd: DurableEndWriter;

  constructor(
    private readonly paths: StreamPaths,
    readonly name: string,
    private readonly options: StreamAppenderOptions,
    private readonly schema: StreamSchema | undefined,
  ) {
    this.durability = options.durability ?? 'fsync';
    if (!['fsync', 'batch', 'none'].includes(this.durability)) {
      throw new StreamError('BAD_RECORD', `durability ${JSON.stringify(this.durability)} is not one of fsync, batch, none`);
    }
    this.file = paths.file;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.maxWriteBytes = options.maxWriteBytes ?? 64 * 1024 * 1024;
    ensureDir(paths.streamsDir);
    this.durableEnd = new DurableEndWriter(durableEndFile(paths.streamsDir, name), paths.file, () => readManifestAt(paths.streamsDir, name)?.live.ino);
    this.fd = this.openFile();
  }

  append(record: StreamRecordInput): Promise<AppendResult> {
    return this.appendBatch([record]);
  }

  appendBatch(records: readonly StreamRecordInput[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StreamError('CLOSED', `stream "${this.name}" appender is closed`));
    if (records.length === 0) return Promise.resolve({ cursor: -1, next: -1, count: 0 });
    let buf: Buffer;
    try {
      // Schema check and version stamp (plan streams.NAME) before anything is written.
      buf = Buffer.from(encodeRecords(this.schema ? checkRecordsForAppend(this.schema, records) : records, this.maxRecordBytes).text);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ buf, count: records.length, resolve, reject });
      // Appends made in the same tick join one write.
      this.running ??= Promise.resolve().then(() => this.drain());
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running;
    fs.closeSync(this.fd);
    this.durableEnd.close();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const take = this.takeBatch();
        try {
          const bufs = take.map((p) => p.buf);
          const buf = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
          const w = this.writeLocked(buf);
          // fsync mode syncs on this thread (no worker hop: the caller waits for this sync alone);
          // batch mode syncs on a worker so appends made meanwhile gather for the next write.
          try {
            if (this.durability === 'fsync') fs.fdatasyncSync(w.fd);
            else if (this.durability === 'batch') await fdatasync(w.fd);
          } catch (err) {
            throw this.retract(w, err);
          }
          this.markDurable(w);
          let at = w.start;
          for (const p of take) {
            const length = take.length === 1 ? w.length : p.buf.length; // a chained write grows
            p.resolve({ cursor: at, next: at + length, count: p.count });
            at += length;
          }
        } catch (err) {
          const e = err instanceof StreamError ? err : new StreamError('IO', `append to ${this.paths.relativeFile} failed: ${(err as Error).message}`, { cause: err });
          for (const p of take) p.reject(e);
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  private takeBatch(): Pending[] {
    if (this.durability === 'fsync' || this.schema?.chain) return [this.queue.shift()!];
    let n = 1;
    let bytes = this.queue[0]!.buf.length;
    while (n < this.queue.length && bytes + this.queue[n]!.buf.length <= this.maxWriteBytes) {
      bytes += this.queue[n]!.buf.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** One locked write of `buf` at the end of the stream; returns where it landed. */
  private writeLocked(buf: Buffer): { fd: number; start: number; length: number; ino: number } {
    for (;;) {
      const fd = this.fd;
      // A blocking wait: another holder keeps the lock for one write only, and waiting on a worker
      // thread would put a thread hop inside every contended critical section (measured 2× slower).
      if (!fileLock.try(fd, 'ex')) fileLock.waitSync(fd, 'ex');
      let reopen = false;
      try {
        const st = fs.fstatSync(fd);
        // The path must still name the open file: compaction may rename a new file over it, or
        // move the old one into streams/archive/ (so the old inode keeps a link: nlink is no test).
        const onPath = st.nlink === 0 ? undefined : fs.statSync(this.file, { throwIfNoEntry: false });
        if (onPath === undefined || onPath.ino !== st.ino || onPath.dev !== st.dev) {
          reopen = true;
        } else {
          let start = st.size;
          // Unless the file still ends where our last write did (then it ends in our newline),
          // look at its last byte: anything after the last newline is a torn record.
          if (start > 0 && start !== this.ourEnd && this.lastByte(fd, start) !== 10) start = this.cutTornTail(fd, st.ino, start);
          if (this.base < 0) this.base = resolveLive(readManifestAt(this.paths.streamsDir, this.name), st.ino)?.base ?? 0;
          // A hash-chained stream: each record's `chain` follows from the last one on disk.
          if (this.schema?.chain) buf = chainLines(buf, this.lastChain(fd, start));
          try {
            writeAll(fd, buf, null);
          } catch (err) {
            try {
              fs.ftruncateSync(fd, start); // never leave our own fragment behind
            } catch {
              /* the next appender will quarantine it */
            }
            throw err;
          }
          this.ourEnd = start + buf.length;
          return { fd, start: start + this.base, length: buf.length, ino: st.ino };
        }
      } finally {
        fileLock.release(fd);
      }
      if (reopen) {
        fs.closeSync(fd);
        this.fd = this.openFile();
      }
    }
  }

  /**
   * Tells followers the write is durable (after its sync; in `none` mode, once written): they
   * publish nothing past the marker. The records are in the stream either way, so a marker that
   * cannot be written fails nothing: it is reported as a warning, and the next append's mark
   * covers these records too.
   */
  private markDurable(w: { start: number; length: number; ino: number }): void {
    try {
      this.durableEnd.mark(w.ino, w.start - this.base + w.length);
    } catch (err) {
      process.emitWarning(`${this.paths.relativeFile}: records at cursor ${w.start} are appended, but the durable-end marker was not updated (${(err as Error).message}): live followers get them with the next append`, 'FramelogWarning');
    }
  }

  /**
   * After a failed sync of a write (fsyncgate: the kernel may drop the dirty pages and report
   * nothing next time), takes the write back when it is still the end of the file, and syncs the
   * cut, so the refused records are not left readable to be appended again by a retry. When others
   * appended after it, it cannot be cut from the middle: the error says where it stays.
   */
  private retract(w: { fd: number; start: number; length: number }, cause: unknown): StreamError {
    const what = `append to ${this.paths.relativeFile} failed: ${(cause as Error).message}`;
    const local = w.start - this.base;
    if (!fileLock.try(w.fd, 'ex')) fileLock.waitSync(w.fd, 'ex');
    try {
      if (fs.fstatSync(w.fd).size !== local + w.length) {
        return new StreamError('IO', `${what}; the records at cursor ${w.start} stay in the stream (later records follow them): check before appending them again`, { cause });
      }
      fs.ftruncateSync(w.fd, local);
      this.ourEnd = local;
      try {
        fs.fdatasyncSync(w.fd);
      } catch (err) {
        return new StreamError('IO', `${what}; nothing was appended (the cut back was not synced either: ${(err as Error).message})`, { cause });
      }
      return new StreamError('IO', `${what}; nothing was appended`, { cause });
    } catch (err) {
      return new StreamError('IO', `${what}; taking the records at cursor ${w.start} back failed too (${(err as Error).message}): check before appending them again`, { cause });
    } finally {
      fileLock.release(w.fd);
    }
  }

  /** The `chain` of the stream's last record: in the live file, else the last segment's anchor. */
  private lastChain(fd: number, end: number): string {
    if (end === 0) {
      const m = readManifestAt(this.paths.streamsDir, this.name);
      return m?.segments.at(-1)?.chainAnchor ?? '';
    }
    const from = lineStartBefore(fd, end - 1);
    const line = Buffer.allocUnsafe(end - 1 - from);
    fs.readSync(fd, line, 0, line.length, from);
    const chain = (JSON.parse(line.toString('utf8')) as { chain?: unknown }).chain;
    return typeof chain === 'string' ? chain : '';
  }

  private lastByte(fd: number, size: number): number {
    fs.readSync(fd, this.tail, 0, 1, size - 1);
    return this.tail[0]!;
  }

  /** Moves bytes after the last newline to quarantine and cuts them; returns the new size. */
  private cutTornTail(fd: number, ino: number, size: number): number {
    const start = lineStartBefore(fd, size);
    const report = quarantineFragment(fd, start, size, {
      stream: this.name,
      file: this.paths.relativeFile,
      inode: ino,
      quarantineDir: this.paths.quarantineDir,
    });
    fs.ftruncateSync(fd, start);
    this.options.onFragment?.(report);
    return start;
  }

  private openFile(): number {
    this.ourEnd = -1;
    this.base = -1;
    const existed = fs.existsSync(this.file);
    const flags = fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT;
    let fd: number;
    try {
      // Reading the last byte would otherwise update atime, a journaled inode change per append.
      fd = fs.openSync(this.file, flags | (fs.constants.O_NOATIME ?? 0), 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
      fd = fs.openSync(this.file, flags, 0o644); // O_NOATIME needs the file's owner
    }
    if (!existed) fsyncDir(this.paths.streamsDir);
    return fd;
  }
}

/** Offset just after the last newline before `end` (0 if none). */
function lineStartBefore(fd: number, end: number): number {
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let pos = end;
  while (pos > 0) {
    const from = Math.max(0, pos - chunk.length);
    const n = fs.readSync(fd, chunk, 0, pos - from, from);
    if (n === 0) break;
    const nl = chunk.lastIndexOf(10, n - 1);
    if (nl !== -1) return from + nl + 1;
    pos = from;
  }
  return 0;
}

/** Adds `"chain": sha256(previous chain + "\n" + line)` as the last field of each line. */
function chainLines(buf: Buffer, prev: string): Buffer {
  const out: string[] = [];
  for (const line of buf.toString('utf8').split('\n')) {
    if (line === '') continue;
    prev = chainHash(prev, line);
    out.push(`${line.slice(0, -1)},"chain":"${prev}"}\n`);
  }
  return Buffer.from(out.join(''));
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}
