/**
 * framelog: log-shaped state. Writers emit deltas; one merge engine applies them additively at
 * frame boundaries; the log is the database and state is a projection (docs/protocol.md).
 *
 * This is the user's door: open a store, put and merge deltas, read its history, states, diffs,
 * conflicts and events; write deltas with a writer; run simulations with the engine; append to
 * and read named streams, query them and keep views; serve the HTTP/SSE API; reach a store
 * through a transport. The full surface of the large optional parts is behind subpaths
 * (`framelog/stream`, `framelog/server`, `framelog/mcp`, `framelog/transport`, `framelog/engine`,
 * `framelog/demos`), and the store's lower-level functions behind `framelog/internals`.
 *
 * @example
 * import { openStore } from 'framelog';
 * const store = await openStore('.framelog', { create: true });
 * await store.put([{ frame: 1, writer: 'w1', utc: new Date().toISOString(), counters: { n: 1 } }]);
 * await store.merge();
 * console.log(await store.stateAt());
 * @packageDocumentation
 */

// Stores: open, put, merge, history.
export { openStore, type Store, type Merger } from './store/openStore.js';
export type { MergeOptions } from './store/commit/runMerge.js';
export type { PutResult } from './store/inbox/putDeltas.js';
export type { VerifyReport, VerifyFault } from './store/history/verifyStore.js';
export type { ConflictEntry, ConflictFilter, EventFilter } from './store/history/journalQueries.js';
export type { CounterSeries, CounterSeriesOptions } from './store/history/counterSeries.js';
export type { FieldHistoryOptions, FieldHistoryPage, FieldWriteEntry } from './store/history/fieldHistory.js';

// What deltas, plans, states and records are.
export type { Delta, ValidDelta, DeltaRef, JsonValue, JsonObject } from './delta/types.js';
export { parsePlan, DEFAULT_PLAN, type Plan, type ShapeRule, type FieldPolicy, type PolicyMap } from './delta/plan.js';
export { validateDelta, parseDelta, MAX_FRAME, MAX_COUNTER_STEP, type DeltaCheck, type DeltaProblem } from './delta/validateDelta.js';
export { canonicalJson } from './delta/canonicalJson.js';
export { contentHash } from './delta/contentHash.js';
export type { State } from './merge/canonicalState.js';
export { diffStates, type StateDiff, type FieldChange, type ItemChange, type CounterChange, type FieldRemoval, type ItemRemoval } from './merge/diffStates.js';
export type * from './merge/records.js';
export { loadResolver, parsePolicyText, type Resolver, type ResolverFunction, type ResolveChoice, type ResolveRequest, type ResolutionPlan } from './resolve/index.js';

// Writers.
export { createWriter, type Writer, type WriterOptions, type UnitResult } from './writer/createWriter.js';
export { createDeltaBuilder, type DeltaBuilder } from './writer/deltaBuilder.js';

// The simulation engine.
export { Engine, type EngineOptions, type ForkOptions } from './engine/run/Engine.js';
export { RunView, type ReplayFrame } from './engine/run/RunView.js';
export type { RunHooks } from './engine/run/runFrames.js';
export type { Simulation, TickFn, InitFn, InitialState, DeltaOps } from './engine/simulation/Simulation.js';
export type { TickContext, ShardInfo } from './engine/tick/TickContext.js';
export { createRng, type Rng } from './engine/rng/createRng.js';
export { logicalClock, type LogicalClock } from './engine/clock/logicalClock.js';

// Named streams, queries and views.
export { appendStream } from './stream/appendStream.js';
export { openStreamAppender, type StreamAppender, type StreamAppenderOptions, type AppendResult, type Durability } from './stream/openStreamAppender.js';
export { readStream, streamExists, type ReadStreamOptions, type StreamEntry } from './stream/readStream.js';
export { tailStream, type TailOptions, type TailResult } from './stream/tailStream.js';
export { followStream, type FollowOptions } from './stream/followStream.js';
export { listStreams, type StreamInfo } from './stream/listStreams.js';
export { compactStream, type CompactOptions, type CompactResult } from './stream/compact/compactStream.js';
export { verifyStreams, type StreamVerifyReport } from './stream/compact/verifyStreams.js';
export type { StreamRecord, StreamRecordInput } from './stream/StreamRecord.js';
export { runQuery as query, parseJoin, type QuerySpec, type JoinSpec } from './query/runQuery.js';
export { parseCondition, type Condition, type ConditionOp } from './query/condition.js';
export { updateView, type StoredView, type UpdateViewOptions, type UpdateViewResult } from './view/updateView.js';
export { watchView } from './view/watchView.js';
export { builtinViews } from './view/builtinViews.js';
export type { Projection } from './view/Projection.js';

// The HTTP/SSE server and the viewer.
export { serve, type Serving } from './server/serve.js';
export type { ServerOptions } from './server/ServerOptions.js';
export type { FramelogServer } from './server/createServer.js';

// Transports (each engine's client library is loaded only when its transport is opened).
export { openTransport, resolveTransportConfig } from './transport/openTransport.js';
export { runTransportMerger, type TransportMergerOptions } from './transport/runTransportMerger.js';
export { TRANSPORT_NAMES, type Transport, type TransportConfig, type TransportName, type TransportDurability, type MergerHooks, type Failover, type MergerLease, type LeaseOptions } from './transport/transport.js';

// Errors.
export { FramelogError } from './errors.js';
export { StreamError, type StreamErrorCode } from './stream/StreamError.js';
export { ApiError } from './server/ApiError.js';
