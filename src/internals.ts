/**
 * `framelog/internals`: the lower-level functions the CLI, the server and the transports are
 * built from, working on a store context (`openStoreContext(dir)`): validation, the pure merge,
 * inbox scans, merge sessions, journals, archive segments, checkpoints, snapshots, locks, merge
 * bundles. They follow the protocol (docs/protocol.md) but not semver's promises: prefer the
 * root export (`framelog`) unless you build a transport or a tool of your own.
 * @packageDocumentation
 */
export * from './delta/index.js';
export * from './merge/index.js';
export * from './store/index.js';
export * from './writer/index.js';
export * from './resolve/index.js';
export { FramelogError } from './errors.js';
