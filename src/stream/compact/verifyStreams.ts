import fs from 'node:fs';
import path from 'node:path';
import { listStreams } from '../listStreams.js';
import { isStreamName } from '../streamName.js';
import { verifyStreamChain } from './verifyStreamChain.js';
import { verifyStreamSegments } from './verifyStreamSegments.js';

/** What `verify` found in the streams: how many were checked, and each fault with its file. */
export interface StreamVerifyReport {
  readonly streams: number;
  readonly segments: number;
  readonly faults: Array<{ file: string; message: string }>;
}

/**
 * Verifies every stream of a store (PROTOCOL §5 `streams/`): compaction manifests against their
 * segments, and each hash chain from the first record through the segments to the live file's end.
 */
export async function verifyStreams(storeDir: string): Promise<StreamVerifyReport> {
  const names = new Set(listStreams(storeDir).map((s) => s.name));
  const archive = path.join(storeDir, 'streams', 'archive');
  for (const e of fs.existsSync(archive) ? fs.readdirSync(archive) : []) {
    if (isStreamName(e) && fs.existsSync(path.join(archive, e, 'manifest.json'))) names.add(e);
  }
  const faults: StreamVerifyReport['faults'] = [];
  let segments = 0;
  for (const name of [...names].sort()) {
    const file = `streams/${name}.ndjson`;
    try {
      for (const message of verifyStreamSegments(storeDir, name)) faults.push({ file: `streams/archive/${name}/manifest.json`, message });
      for (const message of await verifyStreamChain(storeDir, name)) faults.push({ file, message });
      const m = fs.existsSync(path.join(archive, name, 'manifest.json')) ? (JSON.parse(fs.readFileSync(path.join(archive, name, 'manifest.json'), 'utf8')) as { segments: unknown[] }) : undefined;
      segments += m?.segments.length ?? 0;
    } catch (err) {
      faults.push({ file, message: (err as Error).message });
    }
  }
  return { streams: names.size, segments, faults };
}
