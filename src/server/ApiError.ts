import { FramelogError } from '../errors.js';
import { StreamError } from '../stream/StreamError.js';
import { oneLine } from '../delta/validateDelta.js';

/** A refusal the API sends as `{"error": code, "message": one line}` with an HTTP status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers (`WWW-Authenticate`, `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The JSON body of an error response. */
export interface ErrorBody {
  error: string;
  message: string;
}

const STREAM_STATUS: Record<string, [number, string]> = {
  BAD_NAME: [400, 'bad-name'],
  BAD_RECORD: [400, 'bad-record'],
  RECORD_TOO_LARGE: [413, 'record-too-large'],
  BAD_TIME: [400, 'bad-time'],
  BAD_CURSOR: [409, 'bad-cursor'],
  BAD_FILTER: [400, 'bad-filter'],
  NOT_FOUND: [404, 'not-found'],
  // A record the stream's schema (framelog.json streams.NAME) refuses: the client's to fix.
  SCHEMA: [400, 'schema'],
  // A stored record newer than this server's plan knows: the server's plan must be upgraded first.
  SCHEMA_VERSION: [409, 'schema-version'],
};

/** Fastify's own errors a client can cause, by their code. */
const FASTIFY_STATUS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body-too-large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported-media-type'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'empty-body'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad-content-length'],
  FST_ERR_BAD_URL: [400, 'bad-url'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'bad-request'],
};

/**
 * Maps anything thrown in a handler to a status and body: API refusals as they are, a user's
 * mistake caught by the core (FramelogError, with the status of its code in ERROR_CODES) or the
 * streams (StreamError) as 4xx, the rest as 500
 * without internals.
 */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof ApiError) return { status: err.status, body: { error: err.code, message: oneLine(err.message) }, headers: err.headers };
  if (err instanceof StreamError) {
    const [status, code] = STREAM_STATUS[err.code] ?? [500, 'io'];
    return { status, body: { error: code, message: status === 500 ? 'stream I/O failed' : oneLine(err.message) }, headers: {} };
  }
  if (err instanceof FramelogError) {
    const status = err.httpStatus; // the error table: 400 for bad input, 409 for state, 503 no store…
    return { status, body: { error: err.code, message: oneLine(err.message) }, headers: {} };
  }
  const e = err as { code?: string; statusCode?: number; message?: string };
  const known = e.code ? FASTIFY_STATUS[e.code] : undefined;
  if (known) return { status: known[0], body: { error: known[1], message: oneLine(e.message ?? known[1]) }, headers: {} };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: 'bad-request', message: oneLine(e.message ?? 'bad request') }, headers: {} };
  }
  return { status: 500, body: { error: 'internal', message: 'internal error (the server log has details)' }, headers: {} };
}
