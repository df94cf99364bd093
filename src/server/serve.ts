import { createServer, type FramelogServer } from './createServer.js';
import type { ServerOptions } from './ServerOptions.js';

/** A running server (see {@link serve}). */
export interface Serving {
  /** Where it listens, e.g. `http://127.0.0.1:4600`. */
  url: string;
  /** Configuration warnings (bound beyond loopback with open reads…). */
  warnings: string[];
  server: FramelogServer;
  /** Stops listening and ends every SSE stream. */
  close(): Promise<void>;
}

/**
 * Serves the store's HTTP/SSE API and the web viewer (what `framelog serve` runs): reads open on
 * loopback, writes behind the store's token. Resolves once it listens.
 *
 * @example
 * const s = await serve({ dir: '.framelog', port: 0 });
 * console.log(s.url); // … later: await s.close();
 */
export async function serve(options: ServerOptions): Promise<Serving> {
  const server = createServer(options);
  let url: string;
  try {
    url = await server.listen();
  } catch (e) {
    await server.close().catch(() => undefined);
    throw e;
  }
  return { url, warnings: server.warnings, server, close: () => server.close() };
}
