import os from 'node:os';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './ApiError.js';
import { SESSION_COOKIE } from './authRoutes.js';
import { bearerOf, cookieOf, tokensEqual, verifyDerivedToken } from './credentials.js';
import type { Access, ServerContext } from './Route.js';
import { credentialOf } from './sseRoutes.js';

const bare = (host: string): string => host.toLowerCase().replace(/^\[|\]$/g, '');

/**
 * The host names the server answers to: loopback names, the bound address, `allowHosts`, and —
 * when bound to every interface — this machine's addresses and name. Anything else in `Host` is
 * a DNS-rebinding attempt (a foreign name resolved to this address) and is refused.
 */
export function allowedHostNames(host: string, extra: readonly string[]): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '::1', bare(host), ...extra.map(bare)]);
  if (host === '0.0.0.0' || host === '::' || host === '') {
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) names.add(bare(a.address));
    names.add(os.hostname().toLowerCase());
  }
  return names;
}

/** Splits a `Host` header into name and port (`[::1]:4600`, `localhost:4600`, `example`). */
export function parseHostHeader(value: string): { name: string; port?: number } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  return { name: bare(m[1]), port: m[2] === undefined ? undefined : Number(m[2]) };
}

export interface GuardConfig {
  hosts: Set<string>;
  /** The port the server listens on (an Origin of this server has it). */
  port: () => number;
  corsOrigins: readonly string[];
}

/**
 * Runs before routing, on every request: refuses a foreign `Host` (421) and a foreign `Origin`
 * (403), answers CORS preflights for allow-listed origins, and adds the CORS headers for them.
 */
export function checkHostAndOrigin(req: FastifyRequest, reply: FastifyReply, cfg: GuardConfig): boolean {
  // RFC 9112 §3.2: a request with more than one Host field is answered 400 (which one to trust is
  // exactly what a request-smuggling probe asks).
  let hosts = 0;
  const raw = req.raw.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts++;
  if (hosts > 1) throw new ApiError(400, 'bad-request', `${hosts} Host header fields: a request carries exactly one`);
  const host = parseHostHeader(req.headers.host ?? '');
  if (!host || !cfg.hosts.has(host.name)) {
    throw new ApiError(421, 'host-not-allowed', `Host ${JSON.stringify((req.headers.host ?? '').slice(0, 80))} is not one this server answers to (start it with --allow-host NAME to add one)`);
  }
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  const listed = cfg.corsOrigins.includes(origin);
  if (!listed && !sameOrigin(origin, cfg)) {
    throw new ApiError(403, 'origin-not-allowed', `Origin ${JSON.stringify(origin.slice(0, 80))} may not call this API (start the server with --cors-origin ORIGIN to allow it)`);
  }
  if (!listed) return false;
  reply.header('access-control-allow-origin', origin);
  reply.header('vary', 'Origin');
  reply.header('access-control-expose-headers', 'framelog-frame');
  if (req.method === 'OPTIONS') {
    reply.header('access-control-allow-methods', 'GET, POST');
    reply.header('access-control-allow-headers', 'authorization, content-type, last-event-id');
    reply.header('access-control-max-age', '600');
    reply.code(204).send();
    return true;
  }
  return false;
}

function sameOrigin(origin: string, cfg: GuardConfig): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file:) and anything unparsable
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return cfg.hosts.has(bare(url.hostname)) && port === cfg.port();
}

/**
 * Checks the credential a route needs. Writes: `Authorization: Bearer <token>` only (a cookie or a
 * URL never authorises a change). Reads: open unless `readToken`, but a credential that is given
 * must be right; a read may also use the session cookie or a short-lived `?token=`.
 * Records the credential class for the per-token SSE cap.
 */
export function checkAccess(req: FastifyRequest, access: Access, server: ServerContext): void {
  if (access === 'public') return;
  const challenge = { 'www-authenticate': 'Bearer realm="framelog"' };
  const bearer = bearerOf(req.headers.authorization);
  if (req.headers.authorization !== undefined && bearer === undefined) {
    throw new ApiError(401, 'token-invalid', 'Authorization header is not "Bearer <token>"', challenge);
  }
  if (bearer !== undefined) {
    if (!tokensEqual(bearer, server.token())) throw new ApiError(401, 'token-invalid', 'the bearer token is wrong: not this store\'s (framelog token --dir <the store served> shows the current one)', challenge);
    credentialOf.set(req, 'token');
    return;
  }
  if (access === 'write') throw new ApiError(401, 'token-required', 'this endpoint changes the store: send Authorization: Bearer <token> (framelog token --dir <the store served> shows it)', challenge);
  const query = (req.query as Record<string, unknown>).token;
  if (query !== undefined) {
    if (typeof query !== 'string' || !verifyDerivedToken(query, server.token(), 'query')) {
      throw new ApiError(401, 'token-invalid', 'the ?token= is wrong or expired: mint a new one with POST /api/read-tokens', challenge);
    }
    credentialOf.set(req, 'token');
    return;
  }
  const cookie = cookieOf(req.headers.cookie, SESSION_COOKIE);
  if (cookie !== undefined && verifyDerivedToken(cookie, server.token(), 'cookie')) {
    credentialOf.set(req, 'token');
    return;
  }
  if (server.options.readToken) {
    throw new ApiError(401, 'token-required', 'this server requires a token on reads: send Authorization: Bearer <token>, the session cookie (POST /api/session) or ?token= (POST /api/read-tokens)', challenge);
  }
  credentialOf.set(req, 'anonymous');
}
