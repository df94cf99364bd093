import fs from 'node:fs';
import { loadStreamSchema, upcastRecord, type StreamSchema } from './schema/streamSchema.js';
import { streamPaths } from './streamPaths.js';
import type { StreamRecord } from './StreamRecord.js';
import type { CorruptLine } from './ScannedRecord.js';
import { readThroughSegments } from './compact/readThroughSegments.js';

export interface ReadStreamOptions {
  /** A stream cursor (as given by a read or an append), valid across compactions. Default 0. */
  readonly from?: number;
  /** The stream's schema for upcasting (default: from the plan); false reads records as stored. */
  readonly schema?: StreamSchema | false;
  readonly onCorrupt?: (c: CorruptLine) => void;
}

/** A record with its stream cursor and the cursor after it. */
export interface StreamEntry {
  readonly record: StreamRecord;
  readonly cursor: number;
  readonly next: number;
}

/**
 * Reads stream `name` from a cursor: through its compacted segments in `streams/archive/NAME/`
 * then its live file, every record upcast to the current schema version (a newer version is
 * refused). A stream that does not exist has no records.
 */
export async function* readStream(storeDir: string, name: string, options: ReadStreamOptions = {}): AsyncGenerator<StreamEntry> {
  const schema = options.schema === false ? undefined : (options.schema ?? loadStreamSchema(storeDir, name));
  const { relativeFile } = streamPaths(storeDir, name);
  for await (const e of readThroughSegments(storeDir, name, options.from ?? 0, options.onCorrupt)) {
    yield schema ? { ...e, record: upcastRecord(schema, e.record, `${relativeFile} at cursor ${e.cursor}`) } : e;
  }
}

/** True when stream `name` has a live file or compacted segments. */
export function streamExists(storeDir: string, name: string): boolean {
  const p = streamPaths(storeDir, name);
  return fs.existsSync(p.file) || fs.existsSync(`${p.streamsDir}/archive/${name}/manifest.json`);
}
