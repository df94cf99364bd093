import type { Command } from 'commander';
import { FramelogError } from '../errors.js';
import { action, parseCount } from './output.js';

interface McpOpts {
  dir?: string;
  transport?: string;
  url?: string;
  store?: string;
  writer?: string;
  anyWriter?: boolean;
  http?: boolean;
  host: string;
  port: string;
  readToken?: boolean;
  maxSessions?: string;
  idle?: string;
  rate?: string;
  burst?: string;
  maxDeltaBytes?: string;
  json?: boolean;
}

/** Registers `framelog mcp`: the store as a Model Context Protocol server, over stdio or HTTP. */
export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description('serve the store to AI agents over the Model Context Protocol (stdio, or streamable HTTP on loopback)')
    .option('--dir <dir>', 'store folder (default: $FRAMELOG_DIR or .framelog); with an engine transport, the merger\'s store')
    .option('--transport <name>', 'where emitted deltas go (default: the store\'s own transport, then fs)')
    .option('--url <url>', 'the transport\'s URL')
    .option('--store <name>', 'the store\'s name on the engine')
    .option('--writer <name>', 'stdio: the session writes as this writer and no other')
    .option('--any-writer', 'stdio: each write may name its writer (default: the first write\'s writer is kept)')
    .option('--http', 'serve streamable HTTP on loopback instead of stdio (tokens decide who writes)')
    .option('--host <host>', 'HTTP: loopback address', '127.0.0.1')
    .option('--port <n>', 'HTTP: port (0: a free one)', '0')
    .option('--read-token', 'HTTP: a token is needed to read too')
    .option('--max-sessions <n>', 'HTTP: sessions open at once (default 256)')
    .option('--idle <seconds>', 'HTTP: close a session unused this long (default 1800)')
    .option('--rate <n>', 'writes per second per session (default 20)')
    .option('--burst <n>', 'writes a session may make at once (default 40)')
    .option('--max-delta-bytes <n>', 'largest delta or stream record an agent may write (default 1 MiB, at most the plan\'s maxDeltaBytes)')
    .option('--json', 'HTTP: print {"url","dir"} as one JSON line once listening')
    .addHelpText('after', `
Examples:
  framelog mcp --dir .framelog --writer agent-a           an MCP client starts this (stdio)
  framelog mcp --http --port 4700                         one server for many agents; each shows a token:
  framelog token --writer agent-b                         a token that writes as agent-b only
Tools: state, diff, conflicts, events, whoami, emit, resolve, read_stream, append_stream.
Resources: framelog://plan, framelog://merges/latest.`)
    .action(action(async (o: McpOpts) => {
      if (o.writer !== undefined && o.anyWriter) throw new FramelogError('give --writer or --any-writer, not both', 'bad-argument');
      if (o.http && (o.writer !== undefined || o.anyWriter)) throw new FramelogError('--writer and --any-writer are for stdio; over HTTP the token decides (framelog token --writer NAME)', 'bad-argument');
      const port = parseCount(o.port, '--port', 0);
      if (port > 65535) throw new FramelogError(`--port: ${port} is not a port (0–65535)`, 'bad-argument');
      // Loaded here: the MCP SDK is only needed by this command.
      const { openMcpContext, checkWriterFlag } = await import('../mcp/openMcpContext.js');
      const { serveMcpStdio, serveMcpHttp } = await import('../mcp/serveMcp.js');
      const writer = o.writer === undefined ? undefined : checkWriterFlag(o.writer);
      const mc = await openMcpContext({
        ...(o.dir !== undefined ? { dir: o.dir } : {}),
        transport: { ...(o.transport ? { transport: o.transport } : {}), ...(o.url ? { url: o.url } : {}), ...(o.store ? { store: o.store } : {}) },
        limits: {
          ...(o.rate !== undefined ? { perSecond: parseCount(o.rate, '--rate', 1) } : {}),
          ...(o.burst !== undefined ? { burst: parseCount(o.burst, '--burst', 1) } : {}),
          ...(o.maxDeltaBytes !== undefined ? { maxDeltaBytes: parseCount(o.maxDeltaBytes, '--max-delta-bytes', 64) } : {}),
        },
      });
      try {
        if (!o.http) {
          await serveMcpStdio(mc, writer !== undefined ? { kind: 'fixed', writer, because: 'framelog mcp --writer' } : o.anyWriter ? { kind: 'any' } : { kind: 'first' });
          return;
        }
        const serving = await serveMcpHttp(mc, {
          host: o.host, port, ...(o.readToken ? { readToken: true } : {}),
          ...(o.maxSessions !== undefined ? { maxSessions: parseCount(o.maxSessions, '--max-sessions', 1) } : {}),
          ...(o.idle !== undefined ? { idleMs: parseCount(o.idle, '--idle', 1) * 1000 } : {}),
        });
        if (o.json) process.stdout.write(JSON.stringify({ url: serving.url, dir: mc.dir }) + '\n');
        else process.stdout.write(`framelog: MCP on ${serving.url} for ${mc.dir} (writes need a token: framelog token --dir ${mc.dir}, or --writer NAME for one writer)\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await serving.close();
      } finally {
        await mc.close();
      }
    }));
}
