import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import type { JsonObject, JsonValue } from '../delta/types.js';
import { planResolution } from '../resolve/planResolution.js';
import type { ResolveChoice } from '../resolve/chooseWrite.js';
import { describeIdentity, writerFor } from './sessionIdentity.js';
import { McpRefusal } from './McpRefusal.js';
import type { McpContext, McpSession } from './McpContext.js';
import { runTool } from './toolResult.js';

const json: z.ZodType<JsonValue> = z.json() as z.ZodType<JsonValue>;
const jsonObject = z.record(z.string(), json) as unknown as z.ZodType<JsonObject>;

/** Registers whoami, emit and resolve: the tools that write deltas, each as the session's writer. */
export function registerWriteTools(server: McpServer, mc: McpContext, session: McpSession): void {
  server.registerTool('whoami', {
    title: 'Who this session writes as',
    description: 'The writer this session writes as, the frame an emit goes to now, the transport and the limits.',
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, () => runTool(() => ({
    identity: describeIdentity(session.identity),
    writer: session.identity.kind === 'fixed' ? session.identity.writer : session.identity.kind === 'first' ? (session.identity.bound ?? null) : null,
    openFrame: mc.emitter.openFrame(),
    transport: mc.transport,
    durability: mc.durability.summary,
    store: mc.dir,
    limits: mc.limits,
  })));

  server.registerTool('emit', {
    title: 'Emit a delta',
    description: 'Records what changed in one unit of your work as a delta: counters add, fields follow the store\'s policy (last write wins by default; a losing write is kept as a conflict), items append (deduplicated by key), events append. It is merged at the next frame boundary; read it back with `state` after that. frame defaults to the open frame and seq to your next one. Give `key` (unique per unit of work) so that a retried call is applied once.',
    inputSchema: {
      writer: z.string().optional().describe('your writer name (the session may fix it; naming another is refused)'),
      frame: z.number().int().min(0).optional().describe('default: the open frame (the one after the last merge)'),
      seq: z.number().int().min(0).optional().describe('default: your next seq in that frame'),
      key: z.string().min(1).max(200).optional().describe('retry key: the same key again puts the same delta again, applied once'),
      counters: z.record(z.string(), z.number()).optional().describe('counter name → increment'),
      set: z.record(z.string(), z.record(z.string(), z.record(z.string(), json))).optional().describe('entity type → id → field → value'),
      items: z.record(z.string(), z.array(jsonObject)).optional().describe('collection → items to append (deduplicated by the collection key, default id)'),
      events: z.array(jsonObject).optional().describe('events to append to the event log (each with a type)'),
      meta: json.optional(),
      status: z.enum(['ok', 'fallback']).optional().describe('fallback: you ran but have nothing to contribute'),
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  }, (a) => runTool(async () => {
    const writer = writerFor(session.identity, a.writer);
    session.rate.check('emit');
    const ops = Object.fromEntries(Object.entries({ counters: a.counters, set: a.set, items: a.items, events: a.events, meta: a.meta, status: a.status }).filter(([, v]) => v !== undefined));
    const r = await mc.emitter.emit({ writer, ...(a.frame !== undefined ? { frame: a.frame } : {}), ...(a.seq !== undefined ? { seq: a.seq } : {}), ...(a.key !== undefined ? { key: a.key } : {}), ops });
    session.rate.spend();
    return { ...r, transport: mc.transport, next: 'merged at the next frame boundary: read it back with state, or see conflicts' };
  }));

  server.registerTool('resolve', {
    title: 'Resolve conflicts',
    description: 'Closes open conflicts with a resolution delta written as your writer: give the conflict ids and exactly one of value (the field or item to keep), winner (the writer whose write wins) or keep (the current value stands). The next merge applies it; the conflict then shows as resolved.',
    inputSchema: {
      ids: z.array(z.string()).min(1).max(1000).describe('conflict ids, as conflicts lists them (m<merge>.<n>)'),
      value: json.optional(),
      winner: z.string().optional(),
      keep: z.literal(true).optional(),
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  }, (a) => runTool(async () => {
    const choices: ResolveChoice[] = [];
    if (a.value !== undefined) choices.push({ value: a.value });
    if (a.winner !== undefined) choices.push({ winner: a.winner });
    if (a.keep) choices.push({ keep: true });
    if (choices.length !== 1) throw new McpRefusal('', 'give exactly one of value, winner and keep');
    const writer = writerFor(session.identity, undefined);
    session.rate.check('resolve');
    return mc.emitter.exclusive(async () => {
      const ctx = mc.store.context;
      const frame = mc.emitter.openFrame();
      // Plan first (nothing reserved), then take as many seqs as it made deltas, and stamp them.
      const dry = await planResolution(ctx, { ids: a.ids, choice: choices[0], as: writer, frame, seq: 0 });
      if (dry.deltas.length === 0) return { resolves: [], declined: dry.declined, reresolved: dry.reresolved, put: [] };
      const seq = mc.emitter.reserveSeqs(writer, frame, dry.deltas.length);
      const deltas = dry.deltas.map((d, i) => ({ ...d, seq: seq + i }));
      const put = await mc.emitter.putDeltas(deltas);
      session.rate.spend();
      return { resolves: dry.resolves, reresolved: dry.reresolved, put, next: 'applied at the next merge' };
    });
  }));
}
