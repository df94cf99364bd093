/**
 * `framelog serve`: the HTTP API of a store (Fastify), its live Server-Sent Events, and the guards
 * around them. The bearer token lives in `<store>/.secrets/token`.
 */
export { createServer, API_ROUTES, type FramelogServer } from './createServer.js';
export { serve, type Serving } from './serve.js';
export { resolveOptions, isLoopback, type ServerOptions, type ResolvedOptions } from './ServerOptions.js';
export { ensureToken, rotateToken, readToken, tokenPath } from './token.js';
export { tokensEqual, mintDerivedToken, verifyDerivedToken } from './credentials.js';
export { ApiError, type ErrorBody } from './ApiError.js';
export type { SseStats } from './sse/SseRegistry.js';
