import type { Command } from 'commander';
import { FramelogError } from '../errors.js';
import { resolveStoreDir } from '../store/layout.js';
import { openStoreContext } from '../store/storeContext.js';
import { ensureToken, rotateToken, tokenPath } from '../server/token.js';
import { action, style } from './output.js';

const collect = (v: string, all: string[]): string[] => [...all, v];

function whole(text: string | undefined, what: string, min = 0): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,12}$/.test(text) || Number(text) < min) throw new FramelogError(`${what}: not a whole number ≥ ${min}: ${JSON.stringify(text)}`, 'bad-argument');
  return Number(text);
}

interface ServeOpts {
  dir?: string;
  host: string;
  port: string;
  readToken?: boolean;
  allowHost: string[];
  corsOrigin: string[];
  maxBodyBytes?: string;
  maxRecordBytes?: string;
  maxSse?: string;
  maxSsePerToken?: string;
  heartbeatMs?: string;
  json?: boolean;
}

/** Registers `serve` (the HTTP API and live streams) and `token` (show or rotate the bearer token). */
export function registerServerCommands(program: Command): void {
  program
    .command('serve')
    .description('serve the store over HTTP: read API, writes with the bearer token, live merges and streams (SSE)')
    .option('--dir <dir>', 'store folder (default: $FRAMELOG_DIR or .framelog)')
    .option('--host <host>', 'interface to bind (anything but loopback is reachable from the network)', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '4600')
    .option('--read-token', 'require the token on reads too (bearer, session cookie or ?token=)')
    .option('--allow-host <name>', 'another Host name to answer to, e.g. behind a proxy (repeat)', collect, [])
    .option('--cors-origin <origin>', 'an origin allowed to call the API from a browser, e.g. https://app.example (repeat)', collect, [])
    .option('--max-body-bytes <n>', 'largest request body (default 8 MiB)')
    .option('--max-record-bytes <n>', 'largest stream record (default 1 MiB)')
    .option('--max-sse <n>', 'live SSE connections in total (default 1024)')
    .option('--max-sse-per-token <n>', 'live SSE connections per credential (default 256)')
    .option('--heartbeat-ms <ms>', 'SSE heartbeat interval (default 15000)')
    .option('--json', 'print {"url","dir","token_file"} as one JSON line once listening')
    .addHelpText('after', `
Examples:
  framelog serve                                   http://127.0.0.1:4600, reads open on loopback
  framelog serve --port 0 --json                   a free port, announced as JSON
  framelog serve --host 0.0.0.0 --read-token       reachable from the network, every request needs the token
  curl -H "Authorization: Bearer $(framelog token)" --data-binary @delta.json \\
       -H 'content-type: application/json' http://127.0.0.1:4600/api/deltas
  curl -N http://127.0.0.1:4600/api/merges/events?cursor=0

The API is described at /api/openapi.json.`)
    .action(action(async (o: ServeOpts) => {
      const dir = resolveStoreDir(o.dir);
      const port = whole(o.port, '--port')!;
      if (port > 65535) throw new FramelogError(`--port: ${port} is not a port (0–65535)`, 'bad-argument');
      // Loaded here: the HTTP stack (fastify) is most of the CLI's start-up time, and only serve needs it.
      const { createServer } = await import('../server/createServer.js');
      const server = createServer({
        dir,
        host: o.host,
        port,
        readToken: o.readToken,
        allowHosts: o.allowHost,
        corsOrigins: o.corsOrigin,
        maxBodyBytes: whole(o.maxBodyBytes, '--max-body-bytes', 1),
        maxRecordBytes: whole(o.maxRecordBytes, '--max-record-bytes', 1),
        maxSse: whole(o.maxSse, '--max-sse', 1),
        maxSsePerToken: whole(o.maxSsePerToken, '--max-sse-per-token', 1),
        heartbeatMs: whole(o.heartbeatMs, '--heartbeat-ms', 100),
      });
      for (const w of server.warnings) process.stderr.write(`${style.yellow('framelog: warning:', process.stderr)} ${w}\n`);
      let url: string;
      try {
        url = await server.listen();
      } catch (e) {
        await server.close().catch(() => undefined);
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE') throw new FramelogError(`port ${port} on ${o.host} is in use: pick another with --port (0 picks a free one)`, 'address-in-use');
        if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new FramelogError(`--host ${o.host}: not an address of this machine`, 'bad-argument');
        if (err.code === 'EACCES') throw new FramelogError(`port ${port}: permission denied (ports below 1024 need privileges)`, 'bad-argument');
        throw e;
      }
      if (o.json) process.stdout.write(JSON.stringify({ url, dir, token_file: tokenPath(dir) }) + '\n');
      else process.stdout.write(`framelog: serving ${dir} at ${url} (API: ${url}/api/openapi.json; token: framelog token --dir ${dir})\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    }));

  program
    .command('token')
    .description('print the bearer token of the store (created when missing), or --rotate it')
    .option('--dir <dir>', 'store folder (default: $FRAMELOG_DIR or .framelog)')
    .option('--rotate', 'replace it with a new one: the old token, session cookies and read tokens stop working')
    .option('--writer <name>', 'print a writer token instead: it writes as that writer only (framelog mcp --http), and rotating the store token revokes it')
    .option('--json', 'print {"token","file","rotated"} (with --writer, also "writer")')
    .addHelpText('after', '\nExamples:\n  framelog token\n  curl -H "Authorization: Bearer $(framelog token)" ...\n  framelog token --writer agent-a     for an agent of framelog mcp --http\n  framelog token --rotate')
    .action(action(async (o: { dir?: string; rotate?: boolean; json?: boolean; writer?: string }) => {
      const dir = resolveStoreDir(o.dir);
      openStoreContext(dir);
      if (o.writer !== undefined && o.rotate) throw new FramelogError('--writer and --rotate: rotate first, then mint writer tokens', 'bad-argument');
      if (o.writer !== undefined) {
        const { checkWriterFlag } = await import('../mcp/openMcpContext.js');
        const { mintWriterToken } = await import('../mcp/writerToken.js');
        const token = mintWriterToken(ensureToken(dir), checkWriterFlag(o.writer));
        if (o.json) process.stdout.write(JSON.stringify({ token, writer: o.writer, file: tokenPath(dir), rotated: false }) + '\n');
        else process.stdout.write(token + '\n');
        return;
      }
      const token = o.rotate ? rotateToken(dir) : ensureToken(dir);
      if (o.json) process.stdout.write(JSON.stringify({ token, file: tokenPath(dir), rotated: Boolean(o.rotate) }) + '\n');
      else process.stdout.write(token + '\n');
    }));
}
