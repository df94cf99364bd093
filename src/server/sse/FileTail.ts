import fs from 'node:fs';
import path from 'node:path';
import { countLines, frameLines, type LineFormat } from './sseLines.js';

const EMPTY = Buffer.alloc(0);

/** New complete lines of the followed file, framed once for every live subscriber. */
export interface TailBatch {
  readonly gen: number;
  /** Byte range `[from, to)` the batch covers (line boundaries). */
  readonly from: number;
  readonly to: number;
  /** Complete lines in the range (skipped corrupt ones included). */
  readonly lines: number;
  /** SSE frames of the records in the range; empty when all were skipped. */
  readonly frames: Buffer;
}

/** A live subscriber: told each batch in order, and when the file was replaced. */
export interface TailListener {
  onBatch(batch: TailBatch): void;
  onReset(gen: number, why: 'replaced' | 'truncated'): void;
}

/** Where following starts: the end of the last complete line, and how many lines lie before it. */
export interface TailStart {
  pos: number;
  lines: number;
}

const CHUNK = 1 << 20;
/** Most bytes read in one turn of the event loop: a burst is framed in slices, not in one block. */
const TURN_BUDGET = 4 << 20;

/**
 * Follows one NDJSON file for every SSE client that watches it: one `fs.watch` (with a polling
 * fallback), one read of the new bytes from the last offset, one framing per batch, whatever the
 * number of subscribers and the size of the file. Like `tail -F` (and `followStream`), when the
 * path comes to name a new file (compaction replaced it) the old one is read to its end first,
 * then a new generation starts at byte 0; a file cut shorter starts a new generation too.
 */
export class FileTail {
  /** Generation: bumped when the file is replaced or truncated (cursors restart at 0). */
  gen = 0;
  /** File offset just after the last complete line read. */
  pos: number;
  /** Complete lines before `pos`. */
  lines: number;
  /** Inode of the file of this generation (-1: none yet). */
  ino = -1;
  readonly live = new Set<TailListener>();
  /** Clients of any state (catching up or live); the registry closes the tail at zero. */
  refs = 0;
  private fd: number | undefined;
  private buf: Buffer = Buffer.allocUnsafe(CHUNK);
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout;
  private scheduled = false;
  private closed = false;

  constructor(
    readonly file: string,
    readonly format: LineFormat,
    start: TailStart,
    pollMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.pos = start.pos;
    this.lines = start.lines;
    this.open();
    try {
      this.watcher = fs.watch(path.dirname(file), { persistent: false }, () => this.schedule());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined; // polling still runs
      });
    } catch {
      this.watcher = undefined;
    }
    this.timer = setInterval(() => this.schedule(), pollMs);
    this.timer.unref();
  }

  /** Reads what was appended since the last look, soon (coalesced: one read for a burst of notifications). */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      try {
        this.refresh();
      } catch (err) {
        this.onError(err);
      }
    });
  }

  /** Reads the new complete lines now and hands them to the live subscribers. */
  refresh(): void {
    if (this.closed) return;
    if (this.fd === undefined && !this.open()) return;
    const fd = this.fd!;
    let budget = TURN_BUDGET;
    for (;;) {
      const size = fs.fstatSync(fd).size;
      if (size < this.pos) return this.restart('truncated');
      const avail = size - this.pos;
      if (avail === 0) break;
      if (budget <= 0) return this.schedule();
      const want = Math.min(avail, this.buf.length);
      const got = readFully(fd, this.buf, want, this.pos);
      // Nobody live (every client is catching up from disk): count the lines, frame nothing.
      const framed = this.live.size > 0 ? frameLines(this.buf, got, this.pos, this.lines, this.format) : countLines(this.buf, got);
      if (framed.used === 0) {
        if (got < this.buf.length) break; // a line still being written
        this.buf = Buffer.allocUnsafe(this.buf.length * 2); // a line longer than the buffer
        continue;
      }
      const batch: TailBatch = { gen: this.gen, from: this.pos, to: this.pos + framed.used, lines: framed.lines, frames: framed.text.length > 0 ? Buffer.from(framed.text) : EMPTY };
      this.pos += framed.used;
      this.lines += framed.lines;
      budget -= framed.used;
      for (const l of [...this.live]) l.onBatch(batch);
    }
    if (this.buf.length > CHUNK) this.buf = Buffer.allocUnsafe(CHUNK);
    const onPath = fs.statSync(this.file, { throwIfNoEntry: false });
    if (onPath !== undefined && onPath.ino !== this.ino) {
      // Drain the old file first: a last append may have landed after the read above.
      if (this.hasCompleteLine(fd)) return this.schedule();
      this.restart('replaced');
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.watcher?.close();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private hasCompleteLine(fd: number): boolean {
    const size = fs.fstatSync(fd).size;
    for (let at = this.pos; at < size; ) {
      const got = readFully(fd, this.buf, Math.min(this.buf.length, size - at), at);
      if (got === 0) return false;
      if (this.buf.subarray(0, got).includes(10)) return true;
      at += got;
    }
    return false;
  }

  private open(): boolean {
    try {
      this.fd = fs.openSync(this.file, 'r');
    } catch {
      return false; // not created yet: polling and the folder watch will see it
    }
    this.ino = fs.fstatSync(this.fd).ino;
    return true;
  }

  private restart(why: 'replaced' | 'truncated'): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.ino = -1;
    this.gen++;
    this.pos = 0;
    this.lines = 0;
    for (const l of [...this.live]) l.onReset(this.gen, why);
    this.schedule();
  }
}

/** Reads up to `want` bytes at `position` (fewer only at the end of the file). */
export function readFully(fd: number, buf: Buffer, want: number, position: number): number {
  let got = 0;
  while (got < want) {
    const n = fs.readSync(fd, buf, got, want - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
