/** How `framelog serve` runs; every limit has a safe default. */
export interface ServerOptions {
  /** The store folder. */
  dir: string;
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** Port (default 4600; 0 picks a free one). */
  port?: number;
  /** Require the token (bearer, session cookie or query token) on reads too (default false). */
  readToken?: boolean;
  /** Extra `Host` names the server answers to (besides loopback names and the bound address). */
  allowHosts?: readonly string[];
  /** Origins allowed to call the API cross-origin (CORS); empty: CORS off. */
  corsOrigins?: readonly string[];
  /** Largest request body in bytes (default 8 MiB): larger gets 413. */
  maxBodyBytes?: number;
  /** Largest stream record in bytes (default 1 MiB): larger gets 413. Deltas use the plan's maxDeltaBytes. */
  maxRecordBytes?: number;
  /** Concurrent SSE connections, in total (default 1024) and per credential (default 256): more get 429. */
  maxSse?: number;
  maxSsePerToken?: number;
  /** Interval of SSE heartbeat comments (default 15 s). */
  heartbeatMs?: number;
  /** Bytes an SSE client may leave unread before it is paced from disk (default 256 KiB). */
  sseBufferBytes?: number;
  /** How long a paced SSE client may read nothing before it is dropped (default 30 s). */
  slowClientMs?: number;
  /** Longest wait between looks at a followed file when no change is notified (default 250 ms). */
  pollMs?: number;
  /** Time to receive the request headers (default 10 s) and the whole request (default 30 s). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Idle keep-alive connections close after this long (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** Lifetime of a `?token=` query token (default 60 s) and of a session cookie (default 12 h). */
  queryTokenTtlMs?: number;
  cookieTtlMs?: number;
}

export type ResolvedOptions = Required<ServerOptions>;

/** Fills in the defaults. */
export function resolveOptions(o: ServerOptions): ResolvedOptions {
  return {
    dir: o.dir,
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 4600,
    readToken: o.readToken ?? false,
    allowHosts: o.allowHosts ?? [],
    corsOrigins: o.corsOrigins ?? [],
    maxBodyBytes: o.maxBodyBytes ?? 8 * 1024 * 1024,
    maxRecordBytes: o.maxRecordBytes ?? 1024 * 1024,
    maxSse: o.maxSse ?? 1024,
    maxSsePerToken: o.maxSsePerToken ?? 256,
    heartbeatMs: o.heartbeatMs ?? 15_000,
    sseBufferBytes: o.sseBufferBytes ?? 256 * 1024,
    slowClientMs: o.slowClientMs ?? 30_000,
    pollMs: o.pollMs ?? 250,
    headersTimeoutMs: o.headersTimeoutMs ?? 10_000,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    keepAliveTimeoutMs: o.keepAliveTimeoutMs ?? 5_000,
    queryTokenTtlMs: o.queryTokenTtlMs ?? 60_000,
    cookieTtlMs: o.cookieTtlMs ?? 12 * 3600_000,
  };
}

/** True when `host` is a loopback address or name. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
