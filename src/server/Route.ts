import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StoreContext } from '../store/storeContext.js';
import type { StreamAppender } from '../stream/openStreamAppender.js';
import type { ResolvedOptions } from './ServerOptions.js';
import type { SseRegistry } from './sse/SseRegistry.js';
import type { Query } from './queryParams.js';

/**
 * Who may call a route: anyone (`public`), readers (open on loopback unless the server requires a
 * token on reads), or writers (a bearer token, always).
 */
export type Access = 'public' | 'read' | 'write';

/** One query parameter, as the OpenAPI description shows it. */
export interface QueryDoc {
  name: string;
  description: string;
  integer?: boolean;
  repeat?: boolean;
}

/** What a route handler can reach. */
export interface ServerContext {
  readonly options: ResolvedOptions;
  /** The store, its plan re-read when framelog.json changes. */
  store(): StoreContext;
  /** The store token, re-read when the token file changes (so `framelog token --rotate` takes effect). */
  token(): string;
  readonly sse: SseRegistry;
  /** The server's one appender of stream `name` (group commit: concurrent appends share a sync). */
  appender(name: string): StreamAppender;
}

/** An API route and its documentation, in one place: the OpenAPI description is built from these. */
export interface Route {
  method: 'GET' | 'POST';
  /** Fastify path syntax (`/api/streams/:name`). */
  url: string;
  summary: string;
  access: Access;
  query?: readonly QueryDoc[];
  body?: { types: readonly string[]; description: string };
  /** Answers with `text/event-stream`. */
  sse?: boolean;
  responses: Readonly<Record<number, string>>;
  handle(req: FastifyRequest<{ Params: Record<string, string>; Querystring: Query }>, reply: FastifyReply, server: ServerContext): unknown;
}

/** Statuses every API route can answer besides its own. */
export const COMMON_REFUSALS: Readonly<Record<number, string>> = {
  400: 'bad parameter (name, frame, cursor, limit, unknown key)',
  403: 'Origin not allowed',
  421: 'Host not allowed (DNS rebinding guard)',
};
