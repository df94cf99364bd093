/** Per-stream schemas, versions and upcasters (plan `streams.NAME`): checked on append, applied on read. */
export { validateSchema, type JsonSchema } from './validateSchema.js';
export { loadStreamSchema, streamSchemaFrom, upcastRecord, recordVersion, checkRecordsForAppend, type StreamSchema, type Upcaster } from './streamSchema.js';
