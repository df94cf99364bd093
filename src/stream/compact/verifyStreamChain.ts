import { createHash } from 'node:crypto';
import { readManifest } from './manifest.js';
import { readThroughSegments } from './readThroughSegments.js';

/** The chain value of a record: SHA-256 of the previous record's chain, a newline and the record's line without `chain`. */
export function chainHash(prev: string, line: string): string {
  return createHash('sha256').update(prev).update('\n').update(line).digest('hex');
}

/**
 * Walks a hash-chained stream (plan `streams.NAME.chain: true`) from its first record, through
 * compacted segments and the live file, recomputing each `chain`. Returns the problems: the
 * first record whose chain does not follow (an edited, dropped, inserted or reordered record),
 * or a record without one after the chain began.
 */
export async function verifyStreamChain(storeDir: string, name: string): Promise<string[]> {
  // After an eviction the chain starts from the anchor of the last evicted segment.
  const evicted = readManifest(storeDir, name)?.segments.filter((s) => s.evicted) ?? [];
  let prev: string | undefined = evicted.at(-1)?.chainAnchor ?? undefined;
  for await (const e of readThroughSegments(storeDir, name, evicted.at(-1)?.end ?? 0)) {
    const { chain, ...rest } = e.record;
    if (typeof chain !== 'string') {
      if (prev !== undefined) return [`stream "${name}": record at cursor ${e.cursor} has no chain, after chained records (inserted by hand, or written without the plan's chain setting)`];
      continue;
    }
    const want = chainHash(prev ?? '', JSON.stringify(rest));
    if (chain !== want) return [`stream "${name}": the hash chain breaks at cursor ${e.cursor}: a record at or before it was edited, dropped, inserted or reordered`];
    prev = chain;
  }
  return [];
}
