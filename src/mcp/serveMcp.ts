import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FramelogError } from '../errors.js';
import { bearerOf, tokensEqual } from '../server/credentials.js';
import { ensureToken } from '../server/token.js';
import { createRateLimit } from './emitLimits.js';
import { createMcpSession } from './createMcpSession.js';
import type { McpContext } from './McpContext.js';
import type { SessionIdentity } from './sessionIdentity.js';
import { writerOfToken } from './writerToken.js';

/**
 * Serves MCP over stdio: one session, the process's stdin and stdout (nothing else may print to
 * stdout). The session writes as `identity`. Resolves when the client closes the connection.
 */
export async function serveMcpStdio(mc: McpContext, identity: SessionIdentity): Promise<void> {
  const server = createMcpSession(mc, { identity, rate: createRateLimit(mc.limits) });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}

/** Options of {@link serveMcpHttp}. */
export interface McpHttpOptions {
  /** Loopback address to listen on (default 127.0.0.1); anything else is refused. */
  host?: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** Require a token on reads too (default: reads are open on loopback, writes need a token). */
  readToken?: boolean;
  /** Sessions open at once (default 256): one more is refused with 429 until one closes or expires. */
  maxSessions?: number;
  /** A session nobody used for this long is closed (default 30 minutes). */
  idleMs?: number;
}

/** A running MCP HTTP server. */
export interface McpHttpServing {
  /** The endpoint clients connect to, `http://127.0.0.1:<port>/mcp`. */
  url: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function hostOk(req: IncomingMessage, port: number): boolean {
  const hosts = req.headersDistinct.host;
  if (!hosts || hosts.length !== 1) return false;
  const m = /^(\[::1\]|127\.0\.0\.1|localhost)(?::(\d+))?$/i.exec(hosts[0]);
  return m !== null && (m[2] === undefined || Number(m[2]) === port);
}

function originOk(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return LOOPBACK.has(new URL(origin).hostname.replace(/^\[|\]$/g, ''));
  } catch {
    return false;
  }
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer realm="framelog"' } : {}) });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: `framelog: ${message}` }, id: null }));
}

/**
 * Serves MCP over streamable HTTP on loopback at `/mcp`, one session per client. A session's
 * identity comes from the `Authorization: Bearer` token it starts with: the store token may write
 * as any writer it names, a writer token (`framelog token --writer NAME`) only as that writer, no
 * token only reads (or nothing, with `readToken`). Every later request of the session must carry
 * the same token. Requests whose Host or Origin is not loopback are refused (DNS rebinding).
 */
export async function serveMcpHttp(mc: McpContext, o: McpHttpOptions = {}): Promise<McpHttpServing> {
  const host = o.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new FramelogError(`--host ${host}: the MCP server listens on loopback only (127.0.0.1 or ::1)`, 'bad-argument');
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; token: string | undefined; seen: number }>();
  const maxSessions = o.maxSessions ?? 256;
  const idleMs = o.idleMs ?? 30 * 60_000;
  let port = 0;
  // Clients that vanish without closing their session (a killed agent) do not hold it for ever.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) {
      if (now - s.seen < idleMs) continue;
      sessions.delete(id);
      void s.transport.close().catch((e: unknown) => process.stderr.write(`framelog mcp: closing idle session ${id}: ${(e as Error).message}\n`));
    }
  }, Math.min(idleMs, 60_000));
  sweep.unref();
  const identityOf = (token: string | undefined): SessionIdentity | undefined => {
    if (token === undefined) return o.readToken ? undefined : { kind: 'none', because: 'it started without a token (send Authorization: Bearer <store token or writer token>)' };
    const secret = ensureToken(mc.dir);
    if (tokensEqual(token, secret)) return { kind: 'any' };
    const writer = writerOfToken(token, secret);
    return writer === undefined ? undefined : { kind: 'fixed', writer, because: 'its token is a writer token' };
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostOk(req, port) || !originOk(req)) return refuse(res, 403, 'Host and Origin must be loopback');
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/mcp') return refuse(res, 404, `no ${path}: the MCP endpoint is /mcp`);
    const token = bearerOf(req.headers.authorization);
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const s = sessions.get(sid);
      if (!s) return refuse(res, 404, `session ${sid} is unknown or closed: start a new one`);
      if ((s.token === undefined) !== (token === undefined) || (token !== undefined && !tokensEqual(token, s.token!))) return refuse(res, 401, 'a session must keep the token it started with');
      s.seen = Date.now();
      return s.transport.handleRequest(req, res);
    }
    const identity = identityOf(token);
    if (!identity) return refuse(res, 401, token === undefined ? 'a token is required (Authorization: Bearer <token>; framelog token)' : 'the token is not this store\'s token nor one of its writer tokens');
    if (req.method !== 'POST') return refuse(res, 400, 'start a session with a POST of initialize');
    if (sessions.size >= maxSessions) return refuse(res, 429, `this server holds its maximum of ${maxSessions} MCP sessions: close one (or wait for an idle one to expire) and retry`);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, { transport, token, seen: Date.now() }),
      onsessionclosed: (id) => void sessions.delete(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    const server = createMcpSession(mc, { identity, rate: createRateLimit(mc.limits) });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  };
  const http: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      process.stderr.write(`framelog mcp: ${(e as Error).message}\n`);
      if (!res.headersSent) refuse(res, 500, (e as Error).message.split('\n')[0]);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port ?? 0, host, () => resolve());
  });
  port = (http.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/mcp`,
    async close() {
      clearInterval(sweep);
      for (const s of sessions.values()) await s.transport.close();
      sessions.clear();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
    },
  };
}
