/** Queries and joins across named streams: `framelog query` (see docs/query.md for the syntax). */
export { parseCondition, testCondition, valueAt, type Condition, type ConditionOp } from './condition.js';
export { runQuery, parseJoin, liveRecords, type QuerySpec, type JoinSpec, type RecordSource } from './runQuery.js';
