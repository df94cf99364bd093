import { ApiError } from '../ApiError.js';
import { FileTail, type TailStart } from './FileTail.js';
import { SseClient, type SseEnd, type SseSink } from './SseClient.js';
import { HEARTBEAT, type LineFormat } from './sseLines.js';
import type { StreamHistory } from './streamHistory.js';

export interface SseLimits {
  maxTotal: number;
  maxPerKey: number;
  heartbeatMs: number;
  bufferBytes: number;
  slowClientMs: number;
  pollMs: number;
}

/** Counts of what the SSE side did, for health checks, tests and the bench. */
export interface SseStats {
  clients: number;
  tails: number;
  dropped: number;
  paced: number;
  /** Most unread bytes any response held. */
  maxBuffered: number;
}

/**
 * The SSE connections of a server: one {@link FileTail} per followed file (shared by all its
 * clients, closed with the last one), the connection caps (in total and per credential: 429),
 * and one heartbeat timer for everyone.
 */
export class SseRegistry {
  private readonly tails = new Map<string, FileTail>();
  private readonly clients = new Map<SseClient, string>();
  private readonly perKey = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;
  private dropped = 0;
  private paced = 0;
  private maxBuffered = 0;

  constructor(private readonly limits: SseLimits, private readonly onError: (err: unknown) => void = () => undefined) {
    this.heartbeat = setInterval(() => this.beat(), limits.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Refuses a connection over either cap (429), before any work is done for it. */
  admit(key: string): void {
    if (this.clients.size >= this.limits.maxTotal) {
      throw new ApiError(429, 'too-many-streams', `this server holds its maximum of ${this.limits.maxTotal} live connections: retry later`, { 'retry-after': '5' });
    }
    if ((this.perKey.get(key) ?? 0) >= this.limits.maxPerKey) {
      throw new ApiError(429, 'too-many-streams', `this credential holds its maximum of ${this.limits.maxPerKey} live connections: close one or retry later`, { 'retry-after': '5' });
    }
  }

  /**
   * The shared tail of `file`, created with `start()` as its position when nobody follows it yet
   * (`'end'`: the end of the file as the tail opens it); `history()` makes its cursors stream cursors.
   */
  tail(file: string, format: LineFormat, start: () => TailStart | 'end', history?: () => StreamHistory): FileTail {
    let t = this.tails.get(file);
    if (!t) {
      t = new FileTail(file, format, start(), this.limits.pollMs, this.onError, history?.());
      this.tails.set(file, t);
    }
    return t;
  }

  /** Starts serving `res` from `start` on `tail`, counted under `key`. `head` is written first. */
  connect(res: SseSink, tail: FileTail, start: TailStart, key: string, head: string): SseClient {
    this.admit(key);
    tail.refs++;
    const client = new SseClient(res, tail, start, { bufferBytes: this.limits.bufferBytes, slowClientMs: this.limits.slowClientMs, onPaced: () => this.paced++ }, (c, why) => this.release(c, tail, why));
    this.clients.set(client, key);
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    client.write(head);
    client.begin();
    return client;
  }

  /** Closes a tail nobody follows (a connection was refused after the tail was made). */
  dropIfUnused(tail: FileTail): void {
    if (tail.refs === 0 && this.tails.get(tail.file) === tail) {
      tail.close();
      this.tails.delete(tail.file);
    }
  }

  stats(): SseStats {
    let max = this.maxBuffered;
    for (const c of this.clients.keys()) max = Math.max(max, c.maxBuffered);
    return { clients: this.clients.size, tails: this.tails.size, dropped: this.dropped, paced: this.paced, maxBuffered: max };
  }

  /** Drops every connection (each client resumes by cursor); the server keeps serving. */
  dropAll(): void {
    for (const c of [...this.clients.keys()]) c.end('dropped');
  }

  /** Ends every connection and stops following. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const c of [...this.clients.keys()]) c.end('shutdown');
    for (const t of this.tails.values()) t.close();
    this.tails.clear();
  }

  private release(c: SseClient, tail: FileTail, why: SseEnd): void {
    const key = this.clients.get(c);
    if (key === undefined) return;
    this.clients.delete(c);
    const n = (this.perKey.get(key) ?? 1) - 1;
    if (n > 0) this.perKey.set(key, n);
    else this.perKey.delete(key);
    if (why === 'dropped') this.dropped++;
    this.maxBuffered = Math.max(this.maxBuffered, c.maxBuffered);
    if (--tail.refs === 0 && this.tails.get(tail.file) === tail) {
      tail.close();
      this.tails.delete(tail.file);
    }
  }

  private beat(): void {
    for (const c of this.clients.keys()) c.heartbeat(HEARTBEAT);
  }
}
