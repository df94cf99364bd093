import { isWriterName } from '../delta/plan.js';
import { FramelogError } from '../errors.js';
import { openStore } from '../store/openStore.js';
import { openTransport, resolveTransportConfig } from '../transport/openTransport.js';
import type { Transport, TransportConfig } from '../transport/transport.js';
import { createEmitter } from './createEmitter.js';
import type { EmitLimits } from './emitLimits.js';
import type { McpContext } from './McpContext.js';

/** Options of {@link openMcpContext}. */
export interface McpContextOptions {
  /** The store folder (default `FRAMELOG_DIR`, then `.framelog`); for an engine transport, the merger's store. */
  dir?: string;
  /** Transport flags, as `framelog put` takes them; default: the store's own (`framelog.json`), then fs. */
  transport?: { transport?: string; url?: string; store?: string };
  limits?: Partial<EmitLimits>;
  /** Wall clock for `utc` (tests). */
  clock?: () => number;
}

/** Opens what an MCP server shares between its sessions: the store, its transport and an emitter. Close it with the returned `close`. */
export async function openMcpContext(o: McpContextOptions = {}): Promise<McpContext & { close(): Promise<void> }> {
  const store = await openStore(o.dir);
  const plan = store.context.plan;
  const config: TransportConfig = resolveTransportConfig(o.transport ?? {}, process.env, plan.transport);
  const maxDeltaBytes = Math.min(o.limits?.maxDeltaBytes ?? 1 << 20, plan.maxDeltaBytes);
  const limits: EmitLimits = { maxDeltaBytes, perSecond: o.limits?.perSecond ?? 20, burst: o.limits?.burst ?? 40 };
  for (const [k, v] of Object.entries(limits)) if (!(Number.isFinite(v) && v > 0)) throw new FramelogError(`mcp limit ${k} must be a positive number (got ${v})`, 'bad-argument');
  const transport: Transport = await openTransport(config.transport === 'fs' ? { ...config, url: undefined } : config, store.dir, { role: 'writer' });
  // Durability is said where it is decided: an engine that can lose an acknowledged emit says so once, at start.
  if (!transport.durability.onDiskWhenAcknowledged) process.stderr.write(`framelog mcp: ${config.transport}: ${transport.durability.summary}\n`);
  return {
    dir: store.dir,
    store,
    transport: config.transport,
    durability: { onDiskWhenAcknowledged: transport.durability.onDiskWhenAcknowledged, summary: transport.durability.summary },
    limits,
    emitter: createEmitter(store.context, transport, limits, o.clock),
    close: () => transport.close(),
  };
}

/** Checks a `--writer` name, with the flag in the message. */
export function checkWriterFlag(name: string): string {
  if (!isWriterName(name)) throw new FramelogError(`--writer ${JSON.stringify(name)}: must be 1–128 chars of [A-Za-z0-9._-], not . or ..`, 'bad-writer');
  return name;
}
