import type { Store } from '../store/openStore.js';
import type { RateLimit, EmitLimits } from './emitLimits.js';
import type { Emitter } from './createEmitter.js';
import type { SessionIdentity } from './sessionIdentity.js';

/** What every session of one MCP server shares: the store, its emitter, the limits. */
export interface McpContext {
  /** The store folder reads come from (for an engine transport, the merger's store). */
  dir: string;
  store: Store;
  emitter: Emitter;
  /** The transport writes go through (`fs`, `git`, `postgres`, `redis`, `nats`, `kafka`). */
  transport: string;
  /** When an emit is acknowledged, and what could still lose it (the transport's own words). */
  durability: { onDiskWhenAcknowledged: boolean; summary: string };
  limits: EmitLimits;
}

/** One MCP session: who it writes as (fixed at its start) and its own rate limit. */
export interface McpSession {
  identity: SessionIdentity;
  rate: RateLimit;
}
