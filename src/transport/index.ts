export type { Transport, Arrival, PutOutcome, TransportConfig, TransportName } from './transport.js';
export { TRANSPORT_NAMES } from './transport.js';
export { runTransportMerger, type TransportMergerOptions } from './runTransportMerger.js';
export { createFrameReadiness, type ReadyDecision } from '../store/frameReadiness.js';
export { resolveTransportConfig, openTransport } from './openTransport.js';
export { createFsTransport } from './fs/fsTransport.js';
export { openGitTransport, type GitTransport, type GitTransportOptions } from './git/gitTransport.js';
export { initGitStore, ensureClone, STORE_GITIGNORE } from './git/gitStore.js';
