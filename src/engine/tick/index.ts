export { createTickContext, stableHash, type TickContext, type TickScope, type ShardInfo } from './TickContext.js';
export { buildShardDelta, shardName, type ShardDeltaInput } from './buildShardDelta.js';
export { deepFreeze } from './deepFreeze.js';
