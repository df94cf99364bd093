/**
 * framelog over the Model Context Protocol: agents emit deltas, read states, diffs, conflicts and
 * events, resolve conflicts and use named streams as tools, each session writing as one writer.
 */
export { openMcpContext, type McpContextOptions } from './openMcpContext.js';
export { createMcpSession } from './createMcpSession.js';
export { serveMcpStdio, serveMcpHttp, type McpHttpOptions, type McpHttpServing } from './serveMcp.js';
export { mintWriterToken, writerOfToken } from './writerToken.js';
export type { McpContext, McpSession } from './McpContext.js';
export type { SessionIdentity } from './sessionIdentity.js';
export type { EmitLimits } from './emitLimits.js';
export { McpRefusal } from './McpRefusal.js';
