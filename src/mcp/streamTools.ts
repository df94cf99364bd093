import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import type { JsonValue } from '../delta/types.js';
import { parseCondition, testCondition } from '../query/condition.js';
import { appendStream } from '../stream/appendStream.js';
import { readStream } from '../stream/readStream.js';
import { isStreamName } from '../stream/streamName.js';
import { checkSize } from './emitLimits.js';
import { McpRefusal } from './McpRefusal.js';
import type { McpContext, McpSession } from './McpContext.js';
import { runTool } from './toolResult.js';
import { writerFor } from './sessionIdentity.js';

const streamName = (name: string): string => {
  if (!isStreamName(name)) throw new McpRefusal('name', `${JSON.stringify(name)} is not a stream name (letters, digits, . _ -; no path)`);
  return name;
};

/** Registers read_stream and append_stream: the store's named append-only NDJSON streams. */
export function registerStreamTools(server: McpServer, mc: McpContext, session: McpSession): void {
  server.registerTool('read_stream', {
    title: 'Read a named stream',
    description: 'Records of a named append-only stream (receipts, audit, a register…) from a cursor, each with its cursor; filter with conditions such as "status=done", "n>3", "worker!=T2". Pass `next` as `from` to read on.',
    inputSchema: {
      name: z.string(),
      from: z.number().int().min(0).optional().describe('a cursor (default 0: the first record)'),
      where: z.array(z.string()).max(16).optional().describe('conditions on record paths, all must hold (path OP value, OP one of = != > >= < <=)'),
      limit: z.number().int().min(1).max(1000).optional().describe('records per page (default 100)'),
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, (a) => runTool(async () => {
    const name = streamName(a.name);
    const conditions = (a.where ?? []).map((w, i) => {
      try {
        return parseCondition(w);
      } catch (e) {
        throw new McpRefusal(`where[${i}]`, (e as Error).message);
      }
    });
    const limit = a.limit ?? 100;
    const records: Array<{ cursor: number; record: Record<string, JsonValue> }> = [];
    let next = a.from ?? 0;
    let scanned = 0;
    for await (const e of readStream(mc.dir, name, { from: a.from ?? 0 })) {
      next = e.next;
      // A page reads at most 100 × its limit records, so a filter that matches little still answers.
      if (++scanned > limit * 100) break;
      if (conditions.every((c) => testCondition(e.record, c))) records.push({ cursor: e.cursor, record: e.record });
      if (records.length >= limit) break;
    }
    return { stream: name, records, next };
  }));

  server.registerTool('append_stream', {
    title: 'Append to a named stream',
    description: 'Appends one record (a JSON object) to a named append-only stream, durably; the record gets a ts and your writer. Returns its cursor.',
    inputSchema: { name: z.string(), record: z.record(z.string(), z.json()) },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  }, (a) => runTool(async () => {
    const name = streamName(a.name);
    const writer = writerFor(session.identity, typeof a.record.writer === 'string' ? a.record.writer : undefined);
    if (a.record.writer !== undefined && a.record.writer !== writer) throw new McpRefusal('record.writer', `must be your writer name ${writer}`);
    session.rate.check('append_stream');
    const record = { ...a.record, writer };
    checkSize('record', Buffer.byteLength(JSON.stringify(record)), mc.limits);
    const r = await appendStream(mc.dir, name, [record]);
    session.rate.spend();
    return { stream: name, cursor: r.cursor, next: r.next };
  }));
}
