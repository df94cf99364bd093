import type { FastifyReply, FastifyRequest } from 'fastify';
import { openJournalIndex } from '../store/history/journalIndex.js';
import { streamPaths } from '../stream/streamPaths.js';
import { ApiError } from './ApiError.js';
import { one, streamNameParam, wholeNumber, type Query } from './queryParams.js';
import type { Route, ServerContext } from './Route.js';
import type { FileTail, TailStart } from './sse/FileTail.js';
import { mergeRecordFrame, readyFrame, streamRecordFrame } from './sse/sseLines.js';
import { streamHistory } from './sse/streamHistory.js';

/** The credential class a request was admitted with (set by the auth hook): the key of the per-token cap. */
export const credentialOf = new WeakMap<object, string>();

const RETRY_MS = 1000;

/** Where to start: `Last-Event-ID` (a reconnect) wins over `?cursor=`; neither means "from now". */
function startCursor(req: FastifyRequest<{ Querystring: Query }>): number | undefined {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string' && header.trim() !== '') return wholeNumber(header.trim(), 'Last-Event-ID', 'bad-cursor');
  const q = one(req.query, 'cursor');
  return q === undefined || q === 'end' ? undefined : wholeNumber(q, 'cursor', 'bad-cursor');
}

/**
 * Hands the connection over to the SSE registry: the status line and headers now, then frames
 * written straight to the socket (the body runs until the connection closes: no chunk framing,
 * one write per batch whatever the number of events in it).
 */
function open(req: FastifyRequest, reply: FastifyReply, server: ServerContext, tail: FileTail, start: TailStart, id: number): void {
  const key = credentialOf.get(req) ?? 'anonymous';
  try {
    server.sse.admit(key); // again, in the turn that connects: others may have connected while the cursor was checked
  } catch (err) {
    server.sse.dropIfUnused(tail);
    throw err;
  }
  const headers: Record<string, string> = {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'close',
    'x-accel-buffering': 'no',
    date: new Date().toUTCString(),
  };
  reply.hijack();
  const socket = req.raw.socket;
  if (socket.destroyed) {
    server.sse.dropIfUnused(tail); // the client left while its cursor was checked: nothing to serve
    return;
  }
  socket.setNoDelay(true);
  socket.setTimeout(0); // heartbeats and the slow-client rule govern a live connection
  let head = 'HTTP/1.1 200 OK\r\n';
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  socket.write(head + '\r\n');
  server.sse.connect(socket, tail, start, key, readyFrame(id, RETRY_MS));
}

/**
 * Runs `validate` on a tail, holding it meanwhile (another client leaving must not close it under
 * an awaited check), and closing it again when the connection is refused.
 */
async function withTail<T>(server: ServerContext, tail: FileTail, validate: () => T | Promise<T>): Promise<T> {
  tail.refs++;
  let ok = false;
  try {
    const start = await validate();
    ok = true;
    return start;
  } finally {
    tail.refs--;
    if (!ok) server.sse.dropIfUnused(tail);
  }
}

const CURSOR_DOC = { name: 'cursor', description: 'where to start: a cursor (an event id), or `end` for live records only (the default). A `Last-Event-ID` header wins' };

/** Live Server-Sent Events: merge records and stream records, replayed from a cursor and then followed. */
export const sseRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/merges/events',
    summary: 'SSE: merge records as they commit (`event: merge`); the event id is the number of records up to it, so a reconnect with Last-Event-ID resumes exactly',
    access: 'read',
    sse: true,
    query: [{ ...CURSOR_DOC, description: CURSOR_DOC.description + ' (here: a record index, 0 = from the first merge)' }],
    responses: { 200: 'text/event-stream: `ready` (id = start cursor), then `merge` events; `: heartbeat` comments', 409: 'cursor past the last record', 429: 'too many live connections' },
    async handle(req, reply, server) {
      const ctx = server.store();
      const cursor = startCursor(req);
      server.sse.admit(credentialOf.get(req) ?? 'anonymous');
      const tail = server.sse.tail(ctx.layout.merges, mergeRecordFrame, () => {
        const idx = openJournalIndex(ctx);
        try {
          if (idx.count === 0) return { pos: 0, lines: 0 };
          const last = idx.read(idx.count - 1, idx.count - 1)[0];
          return { pos: last.offset + Buffer.byteLength(last.text) + 1, lines: idx.count };
        } finally {
          idx.close();
        }
      });
      const start = await withTail(server, tail, (): TailStart => {
        tail.refresh();
        if (cursor === undefined || cursor === tail.lines) return { pos: tail.pos, lines: tail.lines };
        if (cursor > tail.lines) throw new ApiError(409, 'bad-cursor', `cursor ${cursor} is past the last merge record (${tail.lines} so far)`);
        const idx = openJournalIndex(ctx);
        try {
          return { pos: idx.read(cursor, cursor)[0].offset, lines: cursor };
        } finally {
          idx.close();
        }
      });
      open(req, reply, server, tail, start, start.lines);
    },
  },
  {
    method: 'GET',
    url: '/api/streams/:name/events',
    summary: 'SSE: records of a stream as they are appended (`event: record`); the event id is the stream cursor after the record (valid across compactions), so a reconnect with Last-Event-ID resumes exactly. A stream that does not exist yet is waited for',
    access: 'read',
    sse: true,
    query: [{ ...CURSOR_DOC, description: CURSOR_DOC.description + ' (here: a stream cursor, 0 = from the first record)' }],
    responses: { 200: 'text/event-stream: `ready` (id = start cursor), then `record` events (a compaction goes unnoticed), `reset` if the file was replaced by hand or cut shorter; `: heartbeat` comments', 409: 'cursor not at the start of a record, or past the end', 429: 'too many live connections' },
    async handle(req, reply, server) {
      const name = streamNameParam(req.params.name);
      const paths = streamPaths(server.options.dir, name);
      const cursor = startCursor(req);
      server.sse.admit(credentialOf.get(req) ?? 'anonymous');
      const tail = server.sse.tail(paths.file, streamRecordFrame, () => 'end', () => streamHistory(server.options.dir, name));
      const start = await withTail(server, tail, async (): Promise<TailStart> => {
        tail.refresh();
        if (cursor === undefined || cursor === tail.pos) return { pos: tail.pos, lines: 0 };
        if (cursor > tail.pos) throw new ApiError(409, 'bad-cursor', `cursor ${cursor} is past the end of stream ${paths.relativeFile} (cursor ${tail.pos}): was it replaced? Reconnect without a cursor`);
        // Below the live file's base, the record starts are in the compacted segments.
        const starts = cursor >= tail.base ? tail.startsLine(cursor) : await tail.history!.startsRecord(cursor);
        if (!starts) throw new ApiError(409, 'bad-cursor', `cursor ${cursor} is not at the start of a record of stream ${paths.relativeFile}: use an event id or a cursor a read gave`);
        return { pos: cursor, lines: 0 };
      });
      open(req, reply, server, tail, start, start.pos);
    },
  },
];
