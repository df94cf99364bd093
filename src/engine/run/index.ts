export { Engine, type EngineOptions, type ForkOptions } from './Engine.js';
export { RunView, type ReplayFrame } from './RunView.js';
export type { RunHooks } from './runFrames.js';
export type { RunTotals } from './runTotals.js';
export { readRunManifest, type RunManifest, type ParentLink } from './runManifest.js';
export { forkStore } from './forkStore.js';
export { storeFingerprint, type StoreFingerprint } from './storeFingerprint.js';
