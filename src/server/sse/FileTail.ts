import fs from 'node:fs';
import { StreamError } from '../../stream/StreamError.js';
import { durableEndFileOf, readDurableEnd } from '../../stream/durableEnd.js';
import path from 'node:path';
import { countLines, frameLines, type FramedLines, type LineFormat } from './sseLines.js';
import type { StreamHistory } from './streamHistory.js';

const EMPTY = Buffer.alloc(0);

/** New complete lines of the followed file, framed once for every live subscriber. */
export interface TailBatch {
  readonly gen: number;
  /** Cursor range `[from, to)` the batch covers (line boundaries). */
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
  /** The file was replaced by hand or cut shorter: generation `gen` starts again at `cursor`. */
  onReset(gen: number, why: 'replaced' | 'truncated', cursor: number): void;
}

/** Where following starts: the cursor after the last complete line, and how many lines lie before it. */
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
 * number of subscribers and the size of the file. Positions are cursors: file offsets, or, with a
 * {@link StreamHistory}, stream cursors (the live file starts at its manifest `base`). When the
 * path comes to name a new file, the old one is read to its end first; a compaction's new live
 * file is then followed on at the same cursor (as `followThrough` does), while a file replaced
 * without a manifest, or cut shorter, starts a new generation (a `reset`).
 */
export class FileTail {
  /** Generation: bumped when the file is replaced by hand or truncated (cursors restart). */
  gen = 0;
  /** Cursor just after the last complete line read. */
  pos: number;
  /** Complete lines before `pos`. */
  lines: number;
  /** Cursor of byte 0 of the file followed (0 unless a compaction moved it). */
  base = 0;
  /** Cursor at which generation `gen` started. */
  genStart = 0;
  /** Inode of the file followed (-1: none open). */
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
  /** An inode already reported as unknown to the manifest. */
  private reported = -1;
  /** The stream's durable-end marker (absent for files that have none, such as the merges journal: no cap). */
  private readonly marker: string;
  /** The path names another file now: this one is read to its end, past the marker. */
  private draining = false;

  /** `start` `'end'`: the end of the last complete line of the file as this tail first opens it. */
  constructor(
    readonly file: string,
    readonly format: LineFormat,
    start: TailStart | 'end',
    pollMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
    readonly history?: StreamHistory,
  ) {
    this.marker = durableEndFileOf(file);
    this.pos = start === 'end' ? 0 : start.pos;
    this.lines = start === 'end' ? 0 : start.lines;
    // Measured on the descriptor it follows, so no compaction can come between measuring and following.
    if (this.open() && start === 'end') this.pos = this.base + Math.min(completeEnd(this.fd!, this.buf), readDurableEnd(this.marker, this.ino));
    else if (start === 'end') this.pos = this.base = this.history?.view(undefined)?.base ?? 0;
    this.genStart = this.pos;
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
    if (this.pos < this.base && !this.readCompacted()) return this.restart('replaced', this.base);
    const fd = this.fd!;
    let budget = TURN_BUDGET;
    for (;;) {
      const size = this.base + fs.fstatSync(fd).size;
      if (size < this.pos) return this.restart('truncated', this.base);
      // Only what an appender marked durable is published (a stream's durable end, durableEnd.ts);
      // a file the path no longer names gets no more framelog appends and is drained to its end.
      const end = this.draining ? size : Math.min(size, this.base + readDurableEnd(this.marker, this.ino));
      const avail = end - this.pos;
      if (avail === 0) break;
      if (budget <= 0) return this.schedule();
      const want = Math.min(avail, this.buf.length);
      const got = readFully(fd, this.buf, want, this.pos - this.base);
      // Nobody live (every client is catching up from disk): count the lines, frame nothing.
      const framed = this.live.size > 0 ? frameLines(this.buf, got, this.pos, this.lines, this.format) : countLines(this.buf, got);
      if (framed.used === 0) {
        if (got < this.buf.length) break; // a line still being written
        this.buf = Buffer.allocUnsafe(this.buf.length * 2); // a line longer than the buffer
        continue;
      }
      this.emit(framed);
      budget -= framed.used;
    }
    if (this.buf.length > CHUNK) this.buf = Buffer.allocUnsafe(CHUNK);
    const onPath = fs.statSync(this.file, { throwIfNoEntry: false });
    if (onPath !== undefined && onPath.ino !== this.ino) {
      // Drain the old file first: a last append may have landed after the read above.
      if (!this.draining && this.hasCompleteLine(fd)) {
        this.draining = true;
        return this.schedule();
      }
      const view = this.history ? this.history.view(onPath.ino) : { base: 0, compacted: false };
      if (view === undefined) return this.unknown(onPath.ino);
      if (!view.compacted) return this.restart('replaced', 0);
      this.closeFd(); // a compaction: follow on in the new live file at the same cursor
      this.refresh();
    }
  }

  /**
   * Frames the compacted bytes `[pos, base)` this tail had not read yet (a second compaction came
   * before it looked at the first one's new file) from their segments; false when it cannot.
   */
  private readCompacted(): boolean {
    while (this.pos < this.base) {
      const seg = this.history?.segmentNow(this.pos);
      if (!seg) return false;
      const end = Math.min(seg.end, this.base);
      if (seg.bytes === undefined) {
        this.emit({ text: '', used: end - this.pos, lines: 0 }); // evicted: its records are gone
        continue;
      }
      const bytes = seg.bytes.subarray(this.pos - seg.first, end - seg.first);
      const framed = this.live.size > 0 ? frameLines(bytes, bytes.length, this.pos, this.lines, this.format) : countLines(bytes, bytes.length);
      if (framed.used !== bytes.length) return false;
      this.emit(framed);
    }
    return true;
  }

  /** Hands the lines just read, from `pos` on, to the live subscribers. */
  private emit(framed: FramedLines): void {
    const batch: TailBatch = { gen: this.gen, from: this.pos, to: this.pos + framed.used, lines: framed.lines, frames: framed.text.length > 0 ? Buffer.from(framed.text) : EMPTY };
    this.pos += framed.used;
    this.lines += framed.lines;
    for (const l of [...this.live]) l.onBatch(batch);
  }

  /** True when `cursor` (in this file's range) starts a line of the file followed. */
  startsLine(cursor: number): boolean {
    if (cursor === this.base) return true;
    if (this.fd === undefined || cursor < this.base) return false;
    const b = Buffer.alloc(1);
    return readFully(this.fd, b, 1, cursor - this.base - 1) === 1 && b[0] === 10;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.watcher?.close();
    this.closeFd();
  }

  private hasCompleteLine(fd: number): boolean {
    const size = fs.fstatSync(fd).size;
    for (let at = this.pos - this.base; at < size; ) {
      const got = readFully(fd, this.buf, Math.min(this.buf.length, size - at), at);
      if (got === 0) return false;
      if (this.buf.subarray(0, got).includes(10)) return true;
      at += got;
    }
    return false;
  }

  /** Opens the file on the path and finds its base; false when there is none, or the manifest does not name it. */
  private open(): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return false; // not created yet: polling and the folder watch will see it
    }
    try {
      const ino = fs.fstatSync(fd).ino;
      const view = this.history ? this.history.view(ino) : { base: 0 };
      if (view === undefined) {
        fs.closeSync(fd);
        this.unknown(ino);
        return false;
      }
      this.fd = fd;
      this.ino = ino;
      this.base = view.base;
      return true;
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** A live file the manifest does not name: replaced by hand (or a swap racing); retried at each poll. */
  private unknown(ino: number): void {
    if (this.reported === ino) return;
    this.reported = ino;
    this.onError(new StreamError('IO', `${path.basename(this.file)}: the live file (inode ${ino}) is not the one its compaction manifest names; run framelog compact to recover`));
  }

  private closeFd(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.draining = false;
    this.ino = -1;
  }

  private restart(why: 'replaced' | 'truncated', base: number): void {
    this.closeFd();
    this.gen++;
    this.pos = this.genStart = this.base = base;
    this.lines = 0;
    for (const l of [...this.live]) l.onReset(this.gen, why, base);
    this.schedule();
  }
}

/** Cursor just after the last newline of the file open as `fd`, relative to its byte 0 (0 when it has none). */
function completeEnd(fd: number, buf: Buffer): number {
  for (let end = fs.fstatSync(fd).size; end > 0; ) {
    const from = Math.max(0, end - buf.length);
    const got = readFully(fd, buf, end - from, from);
    const nl = buf.lastIndexOf(10, got - 1);
    if (nl >= 0) return from + nl + 1;
    end = from;
  }
  return 0;
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
