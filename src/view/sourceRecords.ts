import fs from 'node:fs';
import path from 'node:path';
import { readStream, scanStream, streamPaths, type StreamRecord } from '../stream/index.js';
import { MERGE_JOURNAL } from './Projection.js';

/** A record of a projection source and the cursor after it. */
export interface SourceRecord {
  readonly record: StreamRecord;
  readonly next: number;
}

/** Reads a source from a cursor; a missing source has no records. */
export type SourceReader = (storeDir: string, source: string, from: number) => AsyncIterable<SourceRecord>;

/** The file a source lives in. */
export function sourceFile(storeDir: string, source: string): string {
  return source === MERGE_JOURNAL ? path.join(storeDir, 'journal', 'merges.ndjson') : streamPaths(storeDir, source).file;
}

/** Reads a stream through its compacted segments (records upcast to the plan's version), or the merge journal. */
export const liveSourceReader: SourceReader = async function* (storeDir, source, from) {
  if (source !== MERGE_JOURNAL) {
    for await (const r of readStream(storeDir, source, { from })) yield { record: r.record, next: r.next };
    return;
  }
  const file = sourceFile(storeDir, source);
  if (!fs.existsSync(file)) return;
  for await (const r of scanStream(file, { from })) yield { record: r.record, next: r.next };
};
