import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { openStoreContext, type StoreContext } from '../store/storeContext.js';
import { openStreamAppender, type StreamAppender } from '../stream/openStreamAppender.js';
import { ApiError, toErrorResponse } from './ApiError.js';
import { authRoutes } from './authRoutes.js';
import { deltaRoutes } from './deltaRoutes.js';
import { resolveRoutes } from './resolveRoutes.js';
import { cladogramRoutes } from './cladogramRoutes.js';
import { dispatchRoutes } from './dispatchRoutes.js';
import { inspectRoutes } from './inspectRoutes.js';
import { historyRoutes } from './historyRoutes.js';
import { counterRoutes } from './counterRoutes.js';
import { openApiOf } from './openApi.js';
import { onlyKeys, type Query } from './queryParams.js';
import { readRoutes } from './readRoutes.js';
import { allowedHostNames, checkAccess, checkHostAndOrigin } from './requestGuards.js';
import type { Route, ServerContext } from './Route.js';
import { isLoopback, resolveOptions, type ResolvedOptions, type ServerOptions } from './ServerOptions.js';
import { SseRegistry } from './sse/SseRegistry.js';
import { sseRoutes } from './sseRoutes.js';
import { streamRoutes } from './streamRoutes.js';
import { registerViewer } from './viewerFiles.js';
import { ensureToken, readToken, tokenPath } from './token.js';

/** Every API route, in the order the OpenAPI description lists them. */
export const API_ROUTES: readonly Route[] = [...readRoutes, ...inspectRoutes, ...historyRoutes, ...counterRoutes, ...cladogramRoutes, ...dispatchRoutes, ...sseRoutes, ...streamRoutes, ...deltaRoutes, ...resolveRoutes, ...authRoutes];

const VERSION = '0.1.0';

/** A running (or ready to run) framelog server. */
export interface FramelogServer {
  readonly app: FastifyInstance;
  readonly options: ResolvedOptions;
  readonly sse: SseRegistry;
  /** Starts listening; resolves to the URL. */
  listen(): Promise<string>;
  /** Warnings about the configuration (bound beyond loopback with open reads…). */
  readonly warnings: string[];
  close(): Promise<void>;
}

/** Keeps a value derived from a file until the file's inode, size or mtime change. */
function cachedByFile<T>(file: string, load: () => T): () => T {
  let key = '';
  let value: T | undefined;
  return () => {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    const k = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'none';
    if (k !== key || value === undefined) {
      value = load();
      key = k;
    }
    return value;
  };
}

/**
 * Builds the HTTP API of the store at `options.dir` (Fastify): read routes, writes behind the
 * bearer token, SSE live streams, and the guards (Host, Origin, CORS, limits, timeouts).
 */
export function createServer(input: ServerOptions): FramelogServer {
  const options = resolveOptions(input);
  openStoreContext(options.dir); // refuses a folder without a store, now rather than per request
  ensureToken(options.dir);
  const warnings: string[] = [];
  if (!isLoopback(options.host) && !options.readToken) {
    warnings.push(`bound to ${options.host} without a token on reads: anyone who can reach this port can read the store (add --read-token)`);
  }
  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBodyBytes,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    connectionTimeout: options.requestTimeoutMs + options.heartbeatMs,
    http: { headersTimeout: options.headersTimeoutMs, connectionsCheckingInterval: Math.max(100, Math.min(1000, options.headersTimeoutMs / 2)) } as object,
    routerOptions: { maxParamLength: 512 },
    forceCloseConnections: true,
  });
  const store = cachedByFile(`${options.dir}/framelog.json`, (): StoreContext => openStoreContext(options.dir));
  const token = cachedByFile(tokenPath(options.dir), () => readToken(options.dir) ?? ensureToken(options.dir));
  const sse = new SseRegistry(
    { maxTotal: options.maxSse, maxPerKey: options.maxSsePerToken, heartbeatMs: options.heartbeatMs, bufferBytes: options.sseBufferBytes, slowClientMs: options.slowClientMs, pollMs: options.pollMs },
    // Fastify's logger is off: a followed file that fails is said on stderr, like a 500.
    (err) => process.stderr.write(`framelog serve: ${err instanceof Error ? err.message : String(err)}\n`),
  );
  const appenders = new Map<string, StreamAppender>();
  const server: ServerContext = {
    options,
    store,
    token,
    sse,
    appender(name) {
      let a = appenders.get(name);
      if (!a) {
        a = openStreamAppender(options.dir, name, { durability: 'batch', maxRecordBytes: options.maxRecordBytes });
        appenders.set(name, a);
      }
      return a;
    },
  };
  const guard = { hosts: allowedHostNames(options.host, options.allowHosts), port: () => (app.server.address() as AddressInfo | null)?.port ?? options.port, corsOrigins: options.corsOrigins };

  app.removeAllContentTypeParsers();
  // Bodies stay bytes: a delta is kept exactly as received, and each route parses what it takes.
  app.addContentTypeParser(['application/json', 'application/x-ndjson'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, _req, reply) => {
    const { status, body, headers } = toErrorResponse(err);
    if (status >= 500) process.stderr.write(`framelog serve: ${(err as Error).stack ?? String(err)}\n`);
    void reply.code(status).headers(headers).type('application/json').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).type('application/json').send({ error: 'not-found', message: `no endpoint ${req.method} ${req.url.split('?')[0].slice(0, 100)} (GET /api/openapi.json lists them)` });
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    if (checkHostAndOrigin(req, reply, guard)) return reply;
  });
  app.addHook('onClose', async () => {
    sse.close();
    await Promise.all([...appenders.values()].map((a) => a.close()));
  });

  const openApi = openApiOf(API_ROUTES, VERSION);
  app.get('/api/openapi.json', async () => openApi);
  for (const route of API_ROUTES) {
    const keys = [...(route.query ?? []).map((q) => q.name), ...(route.access === 'read' ? ['token'] : [])];
    app.route<{ Params: Record<string, string>; Querystring: Query }>({
      method: route.method,
      url: route.url,
      preHandler: async (req) => {
        onlyKeys(req.query, keys);
        checkAccess(req, route.access, server);
      },
      handler: async (req, reply) => {
        const out = await route.handle(req, reply, server);
        if (route.sse) return reply;
        return out;
      },
    });
  }
  registerViewer(app);

  return {
    app,
    options,
    sse,
    warnings,
    async listen() {
      await app.listen({ host: options.host, port: options.port });
      const a = app.server.address() as AddressInfo;
      const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      return `http://${h}:${a.port}`;
    },
    async close() {
      await app.close();
    },
  };
}

export { ApiError };
