import { isUtf8 } from 'node:buffer';

/**
 * Turns one complete NDJSON line into an SSE frame, or undefined to skip it (a corrupt line).
 * `next` is the byte offset after the line, `index` its 0-based line number.
 */
export type LineFormat = (text: string, next: number, index: number) => string | undefined;

/** SSE frames for the complete lines of a chunk, and how far they reach. */
export interface FramedLines {
  /** The frames, ready to write (may be empty when every line was skipped). */
  text: string;
  /** Bytes of `buf` consumed: up to and including the last newline (0: no complete line). */
  used: number;
  /** Complete lines consumed (skipped ones included). */
  lines: number;
}

/**
 * Frames the complete lines of `buf[0, end)`, whose byte 0 is at file offset `base` and whose
 * first line has index `index`. Bytes after the last newline are left: a partial line is never sent.
 */
export function frameLines(buf: Buffer, end: number, base: number, index: number, format: LineFormat): FramedLines {
  const last = buf.lastIndexOf(10, end - 1);
  if (last < 0) return { text: '', used: 0, lines: 0 };
  const valid = isUtf8(buf.subarray(0, last + 1));
  let text = '';
  let lines = 0;
  for (let pos = 0; pos <= last; ) {
    const nl = buf.indexOf(10, pos);
    if (valid || isUtf8(buf.subarray(pos, nl))) {
      const frame = format(buf.toString('utf8', pos, nl), base + nl + 1, index + lines);
      if (frame !== undefined) text += frame;
    }
    lines++;
    pos = nl + 1;
  }
  return { text, used: last + 1, lines };
}

/** Like {@link frameLines}, without framing: how far the complete lines reach, and how many there are. */
export function countLines(buf: Buffer, end: number): FramedLines {
  const last = buf.lastIndexOf(10, end - 1);
  let lines = 0;
  for (let i = buf.indexOf(10); i !== -1 && i <= last; i = buf.indexOf(10, i + 1)) lines++;
  return { text: '', used: last + 1, lines };
}

/** The SSE frame of a stream record: `id` is the cursor after it, `data` the line (a JSON object). */
export const streamRecordFrame: LineFormat = (text, next) => {
  if (text.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  } catch {
    return undefined;
  }
  // JSON may hold a raw CR only as white space between tokens: dropping it keeps the value and
  // keeps an SSE parser from reading it as a line end.
  return `id: ${next}\nevent: record\ndata: ${text.includes('\r') ? text.replace(/\r/g, '') : text}\n\n`;
};

/** The SSE frame of a merge record: `id` is the number of records up to and including it. */
export const mergeRecordFrame: LineFormat = (text, _next, index) => (text.length === 0 ? undefined : `id: ${index + 1}\nevent: merge\ndata: ${text.replace(/\r/g, '')}\n\n`);

/** The first frame of a connection: the reconnection delay and where it starts. */
export const readyFrame = (id: number, retryMs: number): string => `retry: ${retryMs}\nid: ${id}\nevent: ready\ndata: {"cursor":${id}}\n\n`;

/** Sent when the followed file was replaced by hand or cut shorter: ids restart at `cursor` (0 without a compaction manifest). */
export const resetFrame = (why: string, cursor: number): string => `id: ${cursor}\nevent: reset\ndata: {"reason":${JSON.stringify(why)},"cursor":${cursor}}\n\n`;

/** A comment that keeps proxies and the client's timers from closing an idle connection. */
export const HEARTBEAT = Buffer.from(': heartbeat\n\n');
