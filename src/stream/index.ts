/**
 * Named NDJSON streams (PROTOCOL §5 `streams/NAME.ndjson`): durable, concurrent, crash-safe
 * appends and fast reads. Receipts, audit logs and registers live here, one file each.
 */
export { StreamError, type StreamErrorCode } from './StreamError.js';
export { assertStreamName, isStreamName } from './streamName.js';
export { streamPaths, type StreamPaths } from './streamPaths.js';
export type { JsonValue, StreamRecord, StreamRecordInput } from './StreamRecord.js';
export { parseInstant, requireInstant } from './parseInstant.js';
export { encodeRecords, DEFAULT_MAX_RECORD_BYTES, type EncodedRecords } from './encodeRecords.js';
export { parseNdjsonInput, parseJsonArgument } from './parseNdjsonInput.js';
export {
  openStreamAppender,
  type StreamAppender,
  type StreamAppenderOptions,
  type AppendResult,
  type Durability,
} from './openStreamAppender.js';
export type { FragmentReport } from './quarantineFragment.js';
export type { ScannedRecord, CorruptLine } from './ScannedRecord.js';
export {
  compileRecordFilter,
  parseWhere,
  valueAt,
  type RecordFilterSpec,
  type RecordPredicate,
  type WhereClause,
} from './recordFilter.js';
export { scanStream, scanStreamBatches, type ScanOptions, type ScanSummary } from './scanStream.js';
export { tailStream, type TailOptions, type TailResult } from './tailStream.js';
export { followStream, type FollowOptions } from './followStream.js';
export { listStreams, type StreamInfo } from './listStreams.js';
export { readStream, streamExists, type ReadStreamOptions, type StreamEntry } from './readStream.js';
export { appendStream } from './appendStream.js';
export * from './schema/index.js';
export * from './compact/index.js';
