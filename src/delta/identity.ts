import type { DeltaIdentity, DeltaRef, ValidDelta } from './types.js';

/** A string key for an identity, for maps: `frame/writer/seq`. Writers cannot contain `/`. */
export function identityKey(d: DeltaIdentity): string {
  return `${d.frame}/${d.writer}/${d.seq}`;
}

/** The `{frame, writer, seq, sha256}` reference merge records list. */
export function deltaRef(d: ValidDelta): DeltaRef {
  return { frame: d.frame, writer: d.writer, seq: d.seq, sha256: d.sha256 };
}

/**
 * The inbox file name of a delta: `frame-000530.worker-3.0.<first 12 hex of sha256>.json`.
 * It carries identity and hash, so two different deltas never share a name.
 */
export function inboxName(d: { frame: number; writer: string; seq: number; sha256: string }): string {
  return `frame-${String(d.frame).padStart(6, '0')}.${d.writer}.${d.seq}.${d.sha256.slice(0, 12)}.json`;
}
