import { isUtf8 } from 'node:buffer';
import { jumpToTime } from '../stream/compact/jumpToTime.js';
import { readManifest } from '../stream/compact/manifest.js';
import { listStreams } from '../stream/listStreams.js';
import { parseInstant } from '../stream/parseInstant.js';
import { parseJsonArgument, parseNdjsonInput } from '../stream/parseNdjsonInput.js';
import { readStream, streamExists } from '../stream/readStream.js';
import { compileRecordFilter } from '../stream/recordFilter.js';
import { StreamError } from '../stream/StreamError.js';
import { streamPaths, type StreamPaths } from '../stream/streamPaths.js';
import type { StreamRecord, StreamRecordInput } from '../stream/StreamRecord.js';
import { ApiError } from './ApiError.js';
import { limitParam, many, one, streamNameParam, textParam, wholeNumber } from './queryParams.js';
import type { Route } from './Route.js';

/** A stream error whose message names files as the store does, never by the server's paths. */
function relabel(err: unknown, storeDir: string, paths: StreamPaths): unknown {
  if (!(err instanceof StreamError)) return err;
  const message = err.message
    .split(paths.file).join(paths.relativeFile)
    .replace(/\/proc\/self\/fd\/\d+/g, paths.relativeFile) // the live file read through its descriptor
    .split(storeDir.endsWith('/') ? storeDir : `${storeDir}/`).join('');
  return new StreamError(err.code, message);
}

/** One page of a stream from `from`: records as the stream's schema reads them, and where to read on. */
async function readPage(storeDir: string, name: string, from: number, limit: number, types: readonly string[]): Promise<{ records: Array<{ cursor: number; next: number; record: StreamRecord }>; next: number }> {
  const keep = compileRecordFilter({ types });
  const records: Array<{ cursor: number; next: number; record: StreamRecord }> = [];
  let next = from;
  for await (const e of readStream(storeDir, name, { from })) {
    next = e.next; // a record the filter skips is read past too
    if (keep && !keep(e.record)) continue;
    records.push({ cursor: e.cursor, next: e.next, record: e.record });
    if (records.length === limit) break;
  }
  return { records, next };
}

/** The body of an append: one JSON object (application/json) or NDJSON, one object per line. */
export function recordsOfBody(body: unknown, contentType: string | undefined): StreamRecordInput[] {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new ApiError(400, 'empty-body', 'no record given: send a JSON object, or NDJSON with one object per line');
  if ((contentType ?? '').startsWith('application/x-ndjson')) return parseNdjsonInput(body, 'body');
  if (!isUtf8(body)) throw new StreamError('BAD_RECORD', 'body: not valid UTF-8');
  return [parseJsonArgument(body.toString('utf8'), 'body')];
}

/** Named NDJSON streams: list, read from a cursor, append. */
export const streamRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/streams',
    summary: 'The streams of the store: name, records (complete lines), bytes, last record time',
    access: 'read',
    responses: { 200: '{streams: [{name, records, bytes, lastTs}]}' },
    handle(_req, _reply, server) {
      return { streams: listStreams(server.options.dir) };
    },
  },
  {
    method: 'GET',
    url: '/api/streams/:name/records',
    summary: 'Records of a stream from a stream cursor (valid across compactions: read through `streams/archive/NAME/` then the live file), at most `limit`, each with its cursor and the cursor after it, upcast to the stream\'s schema',
    access: 'read',
    query: [
      { name: 'cursor', description: 'stream cursor to start at (0, or a `cursor`/`next` value a read, an append or an event id gave; default 0)', integer: true },
      { name: 'since', description: 'instead of a cursor, an RFC 3339 time: start at the first record whose `ts` is at or after it (compacted segments that end earlier are skipped by their manifest entry)' },
      { name: 'limit', description: 'records to return, 1–1000 (default 100)', integer: true },
      { name: 'type', description: 'only records whose "type" is this (repeat for any of several)', repeat: true },
    ],
    responses: { 200: '{records: [{cursor, next, record}], cursor, next}: read on from `next` (`cursor`: where the page started, the record `since` found)', 400: 'a malformed cursor or time', 404: 'no such stream', 409: 'cursor not at the start of a record, or past the end' },
    async handle(req, _reply, server) {
      const dir = server.options.dir;
      const name = streamNameParam(req.params.name);
      const paths = streamPaths(dir, name);
      if (!streamExists(dir, name)) throw new ApiError(404, 'not-found', `no stream ${JSON.stringify(name)} in this store (GET /api/streams lists them)`);
      const since = one(req.query, 'since');
      const cursorText = one(req.query, 'cursor');
      if (since !== undefined && cursorText !== undefined) throw new ApiError(400, 'bad-parameter', 'give cursor or since, not both');
      let from = wholeNumber(cursorText ?? '0', 'cursor', 'bad-cursor');
      if (since !== undefined) {
        const at = parseInstant(since);
        if (at === undefined) throw new ApiError(400, 'bad-parameter', `since: not an RFC 3339 time: ${JSON.stringify(since.slice(0, 60))} (like 2026-12-07T17:00:00Z)`);
        from = (await jumpToTime(dir, name, at)).cursor;
      }
      const limit = limitParam(req.query);
      for (const t of many(req.query, 'type')) textParam({ type: t }, 'type');
      try {
        const page = await readPage(dir, name, from, limit, many(req.query, 'type'));
        return { records: page.records, cursor: from, next: page.next };
      } catch (err) {
        throw relabel(err, dir, paths);
      }
    },
  },
  {
    method: 'GET',
    url: '/api/streams/:name/segments',
    summary: 'How a stream is laid out after compactions: its gzipped segments (cursors, records, first and last times, evicted or not) and where the live file starts',
    access: 'read',
    responses: { 200: '{segments: [{file, first, last, end, count, firstTs, lastTs, evicted?}], live: {base}}', 404: 'no such stream' },
    handle(req, _reply, server) {
      const dir = server.options.dir;
      const name = streamNameParam(req.params.name);
      if (!streamExists(dir, name)) throw new ApiError(404, 'not-found', `no stream ${JSON.stringify(name)} in this store (GET /api/streams lists them)`);
      const m = readManifest(dir, name);
      return {
        segments: (m?.segments ?? []).map((s) => ({ file: s.file, first: s.first, last: s.last, end: s.end, count: s.count, firstTs: s.firstTs ?? null, lastTs: s.lastTs ?? null, ...(s.evicted ? { evicted: s.evicted } : {}) })),
        live: { base: m?.live.base ?? 0 },
      };
    },
  },
  {
    method: 'POST',
    url: '/api/streams/:name',
    summary: 'Append records to a stream (created when missing), all or none, durable when answered',
    access: 'write',
    body: { types: ['application/json', 'application/x-ndjson'], description: 'one JSON object, or NDJSON (one object per line); `ts` is added when absent' },
    responses: { 201: '{stream, appended, cursor, next}', 401: 'no token, or a wrong one', 413: 'body or a record too large', 415: 'not JSON or NDJSON' },
    async handle(req, reply, server) {
      const name = streamNameParam(req.params.name);
      const records = recordsOfBody(req.body, req.headers['content-type']);
      const r = await server.appender(name).appendBatch(records);
      reply.code(201);
      return { stream: name, appended: r.count, cursor: r.cursor, next: r.next };
    },
  },
];
