/** Compaction of streams into segments of `streams/archive/NAME/`, with a manifest that keeps cursors valid. */
export { compactStream, recoverCompaction, type CompactOptions, type CompactResult, type CompactStep } from './compactStream.js';
export { readManifest, resolveLive, archiveDir, manifestFile, type Manifest, type Segment, type LiveFile } from './manifest.js';
export { readThroughSegments, segmentBytes, type SegmentEntry } from './readThroughSegments.js';
export { verifyStreamChain, chainHash } from './verifyStreamChain.js';
export { verifyStreamSegments } from './verifyStreamSegments.js';
export { verifyStreams, type StreamVerifyReport } from './verifyStreams.js';
export { archiveEndedKeys, archiveByKeyRule, loadArchiveByKeyRule, type ArchiveByKeyRule, type KeyedArchive } from './archiveEndedKeys.js';
export { tailThrough, followThrough } from './tailThrough.js';
export { jumpToTime, type TimeJump } from './jumpToTime.js';
