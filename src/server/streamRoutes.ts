import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { listStreams } from '../stream/listStreams.js';
import { parseJsonArgument, parseNdjsonInput } from '../stream/parseNdjsonInput.js';
import { scanStream } from '../stream/scanStream.js';
import { StreamError } from '../stream/StreamError.js';
import { streamPaths } from '../stream/streamPaths.js';
import type { StreamRecordInput } from '../stream/StreamRecord.js';
import { ApiError } from './ApiError.js';
import { limitParam, many, one, streamNameParam, textParam, wholeNumber } from './queryParams.js';
import type { Route } from './Route.js';

/** A stream error whose message names the stream as the store does, never the server's paths. */
function relabel(err: unknown, file: string, relative: string): unknown {
  if (err instanceof StreamError) return new StreamError(err.code, err.message.split(file).join(relative));
  return err;
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
    summary: 'Records of a stream from a byte cursor, at most `limit`, each with its cursor and the cursor after it',
    access: 'read',
    query: [
      { name: 'cursor', description: 'byte offset to start at (0, or a `cursor`/`next` value a read gave; default 0)', integer: true },
      { name: 'limit', description: 'records to return, 1–1000 (default 100)', integer: true },
      { name: 'type', description: 'only records whose "type" is this (repeat for any of several)', repeat: true },
    ],
    responses: { 200: '{records: [{cursor, next, record}], cursor, next}: read on from `next`', 404: 'no such stream', 409: 'cursor not at the start of a record, or past the end' },
    async handle(req, _reply, server) {
      const name = streamNameParam(req.params.name);
      const paths = streamPaths(server.options.dir, name);
      if (!fs.existsSync(paths.file)) throw new ApiError(404, 'not-found', `no stream ${JSON.stringify(name)} in this store (GET /api/streams lists them)`);
      const from = wholeNumber(one(req.query, 'cursor') ?? '0', 'cursor', 'bad-cursor');
      const limit = limitParam(req.query);
      for (const t of many(req.query, 'type')) textParam({ type: t }, 'type');
      const types = many(req.query, 'type');
      const records: Array<{ cursor: number; next: number; record: unknown }> = [];
      const it = scanStream(paths.file, { from, filter: types.length ? { types } : undefined });
      let next = from;
      try {
        for (;;) {
          const step = await it.next();
          if (step.done) {
            next = step.value.end;
            break;
          }
          records.push({ cursor: step.value.cursor, next: step.value.next, record: step.value.record });
          next = step.value.next;
          if (records.length === limit) {
            await it.return(undefined as never);
            break;
          }
        }
      } catch (err) {
        throw relabel(err, paths.file, paths.relativeFile);
      }
      return { records, cursor: from, next };
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
