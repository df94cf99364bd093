import { mintDerivedToken } from './credentials.js';
import type { Route } from './Route.js';

/** The cookie a browser's EventSource carries (it cannot send an Authorization header). */
export const SESSION_COOKIE = 'framelog_session';

/** Read credentials for browsers, minted from the bearer token. */
export const authRoutes: Route[] = [
  {
    method: 'POST',
    url: '/api/session',
    summary: 'Set a read-only session cookie (HttpOnly, SameSite=Strict, Path=/api) for EventSource and other browser reads; writes still need the bearer token',
    access: 'write',
    responses: { 200: '{expires}: and a Set-Cookie header', 401: 'no token, or a wrong one' },
    handle(_req, reply, server) {
      const { token, expires } = mintDerivedToken(server.token(), 'cookie', server.options.cookieTtlMs);
      reply.header('set-cookie', `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/api; Max-Age=${Math.floor(server.options.cookieTtlMs / 1000)}`);
      reply.header('cache-control', 'no-store');
      return { expires: new Date(expires).toISOString() };
    },
  },
  {
    method: 'POST',
    url: '/api/read-tokens',
    summary: 'Mint a short-lived read-only token to pass as `?token=` on one GET (an EventSource URL); it expires after queryTokenTtlMs (default 60 s) and is revoked by rotating the store token',
    access: 'write',
    responses: { 201: '{token, expires}', 401: 'no token, or a wrong one' },
    handle(_req, reply, server) {
      const { token, expires } = mintDerivedToken(server.token(), 'query', server.options.queryTokenTtlMs);
      reply.code(201).header('cache-control', 'no-store');
      return { token, expires: new Date(expires).toISOString() };
    },
  },
];
