import path from 'node:path';
import { assertStreamName } from './streamName.js';

/** Where a stream and its companions live inside a store (PROTOCOL §5). */
export interface StreamPaths {
  /** `<storeDir>/streams` */
  readonly streamsDir: string;
  /** `<storeDir>/streams/NAME.ndjson`: the stream itself, the truth. */
  readonly file: string;
  /** `<storeDir>/quarantine/streams`: torn bytes cut from streams. */
  readonly quarantineDir: string;
  /** The path of `file` relative to the store, as written into reports. */
  readonly relativeFile: string;
}

/** Resolves the paths of stream `name` in `storeDir`, refusing a bad name. */
export function streamPaths(storeDir: string, name: string): StreamPaths {
  assertStreamName(name);
  const streamsDir = path.join(storeDir, 'streams');
  return {
    streamsDir,
    file: path.join(streamsDir, `${name}.ndjson`),
    quarantineDir: path.join(storeDir, 'quarantine', 'streams'),
    relativeFile: `streams/${name}.ndjson`,
  };
}
