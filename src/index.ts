/**
 * framelog: log-shaped state. Writers emit deltas; one merge engine applies them additively at
 * frame boundaries; the log is the database and state is a projection (see PROTOCOL.md).
 * @packageDocumentation
 */
export * from './delta/index.js';
export * from './merge/index.js';
export * from './store/index.js';
export * from './writer/index.js';
export { FramelogError } from './errors.js';
export * from './engine/index.js';
export * from './transport/index.js';
