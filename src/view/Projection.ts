import { createHash } from 'node:crypto';
import type { JsonValue, StreamRecord } from '../stream/index.js';

/** The merge journal as a projection source (PROTOCOL §3 merge records). */
export const MERGE_JOURNAL = 'journal:merges';

/**
 * A projection (PROTOCOL §5 `views/`): a reducer over streams and/or the merge journal. Its
 * output is a cache: deleting it only costs a rebuild. Records of one source are applied in
 * order; a projection over several sources must not depend on how they interleave.
 */
export interface Projection<S extends JsonValue = JsonValue> {
  readonly name: string;
  /** Bump to force a rebuild; a changed `evolve` or `initialState` also changes the definition hash. */
  readonly version: number;
  /** Stream names, or {@link MERGE_JOURNAL}. */
  readonly sources: readonly string[];
  initialState(): S;
  /** Returns the next state (may mutate and return `state`). */
  evolve(state: S, record: StreamRecord, source: string): S;
}

/** The hash of a projection's definition: a change of any part makes a stored view stale. */
export function definitionHash(p: Projection<JsonValue>): string {
  return createHash('sha256')
    .update(JSON.stringify({ name: p.name, version: p.version, sources: p.sources }))
    .update('\0')
    .update(p.initialState.toString())
    .update('\0')
    .update(p.evolve.toString())
    .digest('hex');
}
