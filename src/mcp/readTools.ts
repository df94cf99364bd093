import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { McpRefusal } from './McpRefusal.js';
import type { McpContext } from './McpContext.js';
import { page, runTool } from './toolResult.js';
import { lastMergedFrame } from '../store/history/lastMergedFrame.js';

const frameArg = z.number().int().min(0);
/** The largest state `state {whole: true}` returns. */
const WHOLE_MAX = 1 << 20;
const offset = z.number().int().min(0).optional().describe('first entry of the page (default 0)');
const limit = z.number().int().min(1).max(1000).optional().describe('entries per page (default 100, at most 1000)');
const range = (frame?: number, from?: number, to?: number): number | { from?: number; to?: number } | undefined =>
  frame !== undefined ? frame : from !== undefined || to !== undefined ? { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) } : undefined;

/** Registers the tools that read the store: state, diff, conflicts and events. */
export function registerReadTools(server: McpServer, mc: McpContext): void {
  const read = { readOnlyHint: true, openWorldHint: false } as const;

  server.registerTool('state', {
    title: 'Read the merged state',
    description: 'The state after a merge (default: the latest), as the merge engine made it. Without a selector: the counters and the sizes of every collection and entity type (whole: the whole state, when small). With `collection`: that collection\'s items, paged. With `type`: that type\'s entities (id → fields), paged by id; with `type` and `id`: one entity.',
    inputSchema: {
      frame: frameArg.optional().describe('the state after the last merge at or before this frame (default: the latest)'),
      collection: z.string().optional(),
      type: z.string().optional().describe('an entity type'),
      id: z.string().optional().describe('an entity id (with type)'),
      whole: z.boolean().optional().describe('the whole state at once (refused over 1 MiB of JSON: page it instead)'),
      offset,
      limit,
    },
    annotations: read,
  }, (a) => runTool(async () => {
    if (a.whole && (a.collection !== undefined || a.type !== undefined)) throw new McpRefusal('whole', 'whole reads everything: leave out collection and type');
    if (a.id !== undefined && a.type === undefined) throw new McpRefusal('id', 'give type with id');
    if (a.collection !== undefined && a.type !== undefined) throw new McpRefusal('collection', 'give collection or type, not both');
    const last = lastMergedFrame(mc.store.context);
    const at = { frame: a.frame ?? last, latestMerge: last, ...(a.frame !== undefined && last !== null && a.frame > last ? { note: `frame ${a.frame} is past the last merge (${last}): this is the latest state` } : {}) };
    const s = await mc.store.stateAt(a.frame);
    if (a.collection !== undefined) {
      const items = s.items[a.collection];
      if (items === undefined) throw new McpRefusal('collection', `no collection ${a.collection} in the state (it has ${Object.keys(s.items).join(', ') || 'none'})`);
      return { ...at, collection: a.collection, ...page(items, a.offset, a.limit) };
    }
    if (a.type !== undefined) {
      const byId = s.entities[a.type];
      if (byId === undefined) throw new McpRefusal('type', `no entity type ${a.type} in the state (it has ${Object.keys(s.entities).join(', ') || 'none'})`);
      if (a.id !== undefined) {
        const fields = byId[a.id];
        if (fields === undefined) throw new McpRefusal('id', `no ${a.type} ${a.id} in the state`);
        return { ...at, type: a.type, id: a.id, fields };
      }
      const p = page(Object.keys(byId).sort(), a.offset, a.limit);
      return { ...at, type: a.type, total: p.total, offset: p.offset, entities: Object.fromEntries(p.items.map((id) => [id, byId[id]])), ...(p.next !== undefined ? { next: p.next } : {}) };
    }
    if (a.whole) {
      const text = JSON.stringify(s);
      if (text.length > WHOLE_MAX) throw new McpRefusal('whole', `the state is ${text.length} bytes of JSON, over ${WHOLE_MAX}: read it by collection and entity type, paged`);
      return { ...at, state: s };
    }
    return {
      ...at,
      counters: s.counters,
      collections: Object.fromEntries(Object.entries(s.items).map(([k, v]) => [k, v.length])),
      entityTypes: Object.fromEntries(Object.entries(s.entities).map(([k, v]) => [k, Object.keys(v).length])),
      hint: 'read one collection (collection), one entity type (type) or one entity (type and id), paged',
    };
  }));

  server.registerTool('diff', {
    title: 'What changed between two frames',
    description: 'Counters, fields and items that changed from the state at frame `from` to the state at frame `to` (from > to lists what the frames between added as removed).',
    inputSchema: { from: frameArg, to: frameArg },
    annotations: read,
  }, (a) => runTool(() => mc.store.diff(a.from, a.to)));

  server.registerTool('conflicts', {
    title: 'List conflicts',
    description: 'Conflicts the merges recorded (the losing writes, kept), oldest first, each with its id (m<merge>.<n>) and, once resolved, the resolution that closed it. Filter with open, kind, type, id, field, collection, writer and the merge frame.',
    inputSchema: {
      open: z.boolean().optional().describe('true: only open conflicts; false: only resolved ones'),
      kind: z.enum(['field', 'item', 'delta']).optional(),
      type: z.string().optional(),
      id: z.string().optional(),
      field: z.string().optional(),
      collection: z.string().optional(),
      writer: z.string().optional().describe('a writer among the winner and the losers'),
      frame: frameArg.optional().describe('the merge that recorded it'),
      from: frameArg.optional(),
      to: frameArg.optional(),
      offset,
      limit,
    },
    annotations: read,
  }, (a) => runTool(async () => {
    const frame = range(a.frame, a.from, a.to);
    const all = await mc.store.conflicts({
      ...(a.open !== undefined ? { open: a.open } : {}), ...(a.kind ? { kind: a.kind } : {}), ...(a.type !== undefined ? { type: a.type } : {}),
      ...(a.id !== undefined ? { id: a.id } : {}), ...(a.field !== undefined ? { field: a.field } : {}), ...(a.collection !== undefined ? { collection: a.collection } : {}),
      ...(a.writer !== undefined ? { writer: a.writer } : {}), ...(frame !== undefined ? { frame } : {}),
    });
    return page(all, a.offset, a.limit);
  }));

  server.registerTool('events', {
    title: 'Read the event log',
    description: 'Events the merges applied, in merge order, filtered by the event\'s type, its writer and the frame.',
    inputSchema: { type: z.string().optional(), writer: z.string().optional(), frame: frameArg.optional(), from: frameArg.optional(), to: frameArg.optional(), offset, limit },
    annotations: read,
  }, (a) => runTool(async () => {
    const frame = range(a.frame, a.from, a.to);
    const all = await mc.store.events({ ...(a.type !== undefined ? { type: a.type } : {}), ...(a.writer !== undefined ? { writer: a.writer } : {}), ...(frame !== undefined ? { frame } : {}) });
    return page(all, a.offset, a.limit);
  }));
}
