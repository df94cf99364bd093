export { ShardHost, type ShardHostOptions, type WorkerEvent, type FrameReport } from './ShardHost.js';
