export * from './types.js';
export { canonicalJson } from './canonicalJson.js';
export { contentHash, sha256Hex } from './contentHash.js';
export { parseUtcInstant, formatUtc } from './utcInstant.js';
export { DEFAULT_PLAN, parsePlan, isWriterName, RESERVED_NAMES, WRITER_NAME, type Plan, type ShapeRule } from './plan.js';
export { validateDelta, parseDelta, describeProblem, oneLine, jsonDepthExceeds, MAX_DEPTH, MAX_FRAME, MAX_COUNTER_STEP, type DeltaCheck, type DeltaProblem } from './validateDelta.js';
export { identityKey, deltaRef, inboxName } from './identity.js';
export { ndjsonLines, type NdjsonLine } from './ndjsonLines.js';
export { compareDeltas, compareStamps, compareStrings, stampOf, type Stamp } from './stamp.js';
