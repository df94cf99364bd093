import fs from 'node:fs';
import { StreamError } from '../../stream/StreamError.js';
import type { FileTail, TailBatch, TailListener, TailStart } from './FileTail.js';
import { frameLines, resetFrame } from './sseLines.js';
import type { SegmentBytes } from './streamHistory.js';

export interface SseClientOptions {
  /** Unread bytes allowed in the response before the client is paced from disk. */
  bufferBytes: number;
  /** How long a paced client may read nothing before it is dropped. */
  slowClientMs: number;
  /** Told when a live client is moved back to reading from disk. */
  onPaced?: () => void;
}

/** Where a client's bytes go: the connection's socket, written without HTTP chunk framing. */
export type SseSink = Pick<NodeJS.WritableStream, 'on' | 'once' | 'off'> & {
  write(data: Buffer | string): boolean;
  end(): unknown;
  destroy(): unknown;
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  readonly destroyed: boolean;
};

/** Why a client ended: it left, it read nothing for too long, or the server is closing. */
export type SseEnd = 'left' | 'dropped' | 'shutdown' | 'error';

const CATCH_UP_CHUNK = 64 * 1024;

/**
 * One SSE connection on a {@link FileTail}. It starts at a cursor and replays from disk (its own
 * reads, in 64 KiB steps, waiting for the socket to drain; cursors before the live file's base
 * from the stream's compacted segments) until it reaches the tail's position;
 * then, in the same turn of the event loop, it joins the live set and gets the tail's batches —
 * so no record is missed or sent twice. A live client that leaves more than `bufferBytes` unread
 * leaves the live set and is paced from disk again; one that reads nothing for `slowClientMs`
 * is dropped (it resumes by cursor). Memory per client is thus bounded whatever it does.
 */
export class SseClient implements TailListener {
  /** Cursor of the next line to send, in generation `gen`. */
  cursor: number;
  /** Lines before `cursor`. */
  index: number;
  gen: number;
  live = false;
  closed = false;
  /** Most bytes ever left unread in this response. */
  maxBuffered = 0;
  private fh: fs.promises.FileHandle | undefined;
  private fhIno = -1;
  /** Cursor of byte 0 of the file open as `fh`. */
  private fhBase = 0;
  /** The compacted segment being replayed. */
  private segment: SegmentBytes | undefined;

  constructor(
    private readonly res: SseSink,
    private readonly tail: FileTail,
    start: TailStart,
    private readonly opts: SseClientOptions,
    private readonly onEnd: (client: SseClient, why: SseEnd) => void,
  ) {
    this.cursor = start.pos;
    this.index = start.lines;
    this.gen = tail.gen;
    res.on('close', () => this.end('left'));
    res.on('error', () => this.end('error'));
  }

  /** Starts replaying (then following). */
  begin(): void {
    void this.catchUp().catch((e) => { if (process.env.FRAMELOG_DEBUG) console.error('sse catch-up failed', e); this.end('error'); });
  }

  /** Writes `data` whole (one write: a frame is never split across writes). */
  write(data: Buffer | string): void {
    if (this.closed) return;
    this.res.write(data);
    const buffered = this.res.writableLength;
    if (buffered > this.maxBuffered) this.maxBuffered = buffered;
    if (this.live && buffered > this.opts.bufferBytes) {
      this.live = false;
      this.tail.live.delete(this);
      this.opts.onPaced?.();
      this.begin(); // paced from disk once it drains
    }
  }

  /** Writes a heartbeat comment when nothing is waiting to be sent. */
  heartbeat(data: Buffer): void {
    if (!this.closed && this.res.writableLength === 0) this.res.write(data);
  }

  onBatch(batch: TailBatch): void {
    if (batch.gen !== this.gen || batch.from !== this.cursor) {
      // Cannot happen while the tail and this client agree; re-sync from disk rather than guess.
      this.live = false;
      this.tail.live.delete(this);
      this.begin();
      return;
    }
    this.cursor = batch.to;
    this.index += batch.lines;
    if (batch.frames.length > 0) this.write(batch.frames);
  }

  onReset(gen: number, why: 'replaced' | 'truncated', cursor: number): void {
    this.gen = gen;
    this.cursor = cursor;
    this.index = 0;
    this.write(resetFrame(why, cursor));
  }

  /** Ends the connection (the client resumes by cursor). */
  end(why: SseEnd): void {
    if (this.closed) return;
    this.closed = true;
    this.live = false;
    this.tail.live.delete(this);
    void this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    if (!this.res.destroyed) {
      if (why === 'dropped' || why === 'error') this.res.destroy();
      else this.res.end();
    }
    this.onEnd(this, why);
  }

  private async catchUp(): Promise<void> {
    let buf = Buffer.allocUnsafe(CATCH_UP_CHUNK);
    try {
      while (!this.closed) {
        if (this.res.writableNeedDrain && !(await this.drained())) {
          this.end('dropped');
          return;
        }
        if (this.closed) return;
        if (this.gen === this.tail.gen && this.cursor === this.tail.pos) {
          this.live = true;
          this.tail.live.add(this);
          return;
        }
        const current = this.gen === this.tail.gen;
        if (current && this.cursor < this.tail.base) {
          await this.replaySegment(); // compacted: the bytes are in a segment now
          continue;
        }
        this.segment = undefined;
        if (!(await this.openFile(current))) {
          if (current) {
            this.tail.refresh(); // the path names a file the tail has not seen yet
            await new Promise((r) => setTimeout(r, 20));
          } else this.resetTo();
          continue;
        }
        if (this.cursor < this.fhBase) continue; // a compaction moved the tail on meanwhile: these bytes are in a segment
        const want = current ? Math.min(this.tail.pos - this.cursor, buf.length) : buf.length;
        const { bytesRead } = await this.fh!.read(buf, 0, want, this.cursor - this.fhBase);
        if (this.closed) return;
        if (current && this.gen !== this.tail.gen) continue; // the tail moved to a new file meanwhile: read the old one on
        const framed = frameLines(buf, bytesRead, this.cursor, this.index, this.tail.format);
        if (framed.used === 0) {
          if (!current && bytesRead < want) this.resetTo(); // the old file is read to its end
          else if (bytesRead === buf.length) buf = Buffer.allocUnsafe(buf.length * 2); // a long line
          else if (this.fhIno !== this.tail.ino) continue; // a compaction's old file, read to its end: the next turn opens the new one
          else this.resetTo(); // the file shrank under us
          continue;
        }
        this.cursor += framed.used;
        this.index += framed.lines;
        if (framed.text.length > 0) this.write(framed.text);
        if (buf.length > CATCH_UP_CHUNK) buf = Buffer.allocUnsafe(CATCH_UP_CHUNK);
      }
    } finally {
      if (this.live || this.closed) {
        await this.fh?.close().catch(() => undefined);
        this.fh = undefined;
        this.fhIno = -1;
      }
      this.segment = undefined;
    }
  }

  /** Sends the next records of the compacted segment holding the cursor (an evicted one is skipped: its records are gone). */
  private async replaySegment(): Promise<void> {
    let seg = this.segment;
    if (!seg || this.cursor < seg.first || this.cursor >= seg.end) {
      seg = this.segment = await this.tail.history?.segmentAt(this.cursor);
      if (this.closed || this.gen !== this.tail.gen) return;
      if (!seg) throw new StreamError('BAD_CURSOR', `${this.tail.file}: no compacted segment holds cursor ${this.cursor}`);
    }
    if (seg.bytes === undefined) {
      this.cursor = seg.end;
      return;
    }
    const at = this.cursor - seg.first;
    const stop = Math.min(seg.end - seg.first, seg.bytes.length);
    let to = Math.min(stop, at + CATCH_UP_CHUNK);
    if (to < stop) {
      const nl = seg.bytes.lastIndexOf(10, to - 1);
      to = nl >= at ? nl + 1 : seg.bytes.indexOf(10, to) + 1 || stop; // whole lines; a long one whole
    }
    const framed = frameLines(seg.bytes.subarray(at, to), to - at, this.cursor, this.index, this.tail.format);
    if (framed.used === 0) {
      this.cursor = seg.end; // no newline left in the segment: nothing more to send from it
      return;
    }
    this.cursor += framed.used;
    this.index += framed.lines;
    if (framed.text.length > 0) this.write(framed.text);
  }

  /** Opens the file of this client's generation; false when it is not (or no longer) on the path. */
  private async openFile(current: boolean): Promise<boolean> {
    if (this.fh !== undefined && (!current || this.fhIno === this.tail.ino)) return true;
    if (!current) return false; // the old file's name now belongs to its replacement
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(this.tail.file, 'r');
    } catch {
      return false;
    }
    const ino = (await fh.stat()).ino;
    if (ino !== this.tail.ino || this.closed) {
      await fh.close();
      return false;
    }
    this.fh = fh;
    this.fhIno = ino;
    this.fhBase = this.tail.base;
    return true;
  }

  /** Moves to the tail's current file from its start, telling the client. */
  private resetTo(): void {
    void this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    this.fhIno = -1;
    this.onReset(this.tail.gen, 'replaced', this.tail.genStart);
  }

  private drained(): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => () => {
        clearTimeout(timer);
        this.res.off('drain', onDrain);
        this.res.off('close', onClose);
        resolve(ok);
      };
      const onDrain = done(true);
      const onClose = done(true);
      const timer = setTimeout(done(false), this.opts.slowClientMs);
      this.res.once('drain', onDrain);
      this.res.once('close', onClose);
    });
  }
}
