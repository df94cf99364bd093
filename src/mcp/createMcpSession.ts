import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { readFileSync } from 'node:fs';
import { openJournalIndex } from '../store/history/journalIndex.js';
import type { McpContext, McpSession } from './McpContext.js';
import { registerReadTools } from './readTools.js';
import { registerStreamTools } from './streamTools.js';
import { registerWriteTools } from './writeTools.js';

/** The version this server reports to MCP clients (the package's). */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const INSTRUCTIONS = [
  'framelog keeps state shared by many writers without losing a write.',
  'Record what one unit of your work changed with emit (counters add, fields: last write wins unless a policy says otherwise, items append);',
  'it is merged at the next frame boundary. Read the merged state with state (paged), what changed with diff,',
  'losing writes with conflicts (open: true) and close them with resolve. Named streams (read_stream, append_stream) are append-only logs.',
  'Give emit a key per unit of work so a retried call is applied once.',
].join(' ');

/**
 * One MCP server for one session: the framelog tools (state, diff, conflicts, events, whoami,
 * emit, resolve, read_stream, append_stream) and two resources, `framelog://plan` and
 * `framelog://merges/latest`. Connect it to a transport (stdio, or a streamable HTTP session).
 */
export function createMcpSession(mc: McpContext, session: McpSession): McpServer {
  const server = new McpServer({ name: 'framelog', version: VERSION }, { instructions: INSTRUCTIONS });
  registerReadTools(server, mc);
  registerWriteTools(server, mc, session);
  registerStreamTools(server, mc, session);
  server.registerResource('plan', 'framelog://plan', {
    title: 'The store\'s plan',
    description: 'framelog.json: writers, frame timeout, shapes, field policies, transport',
    mimeType: 'application/json',
  }, (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(mc.store.context.plan) }] }));
  server.registerResource('latest-merge', 'framelog://merges/latest', {
    title: 'The latest merge record',
    description: 'What the last merge applied, found late, duplicated, quarantined and recorded as conflicts (null before the first merge)',
    mimeType: 'application/json',
  }, (uri) => {
    const idx = openJournalIndex(mc.store.context);
    try {
      const rec = idx.count === 0 ? null : idx.read(idx.count - 1, idx.count - 1)[0].value;
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(rec) }] };
    } finally {
      idx.close();
    }
  });
  return server;
}
