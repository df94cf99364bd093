import { hash } from 'node:crypto';
import { canonicalJson } from './canonicalJson.js';
import type { JsonValue } from './types.js';

/**
 * SHA-256 (lowercase hex) of a string's UTF-8 bytes. `crypto.hash` is a one-shot digest: for the
 * small inputs of deltas about 3× faster than a `Hash` object (measured 1.2 against 4.4 µs for
 * 170 bytes), and every delta of a merge is hashed.
 */
export function sha256Hex(text: string | Uint8Array): string {
  return hash('sha256', text, 'hex');
}

/** The content hash of a JSON value: SHA-256 of its canonical JSON (PROTOCOL §1). */
export function contentHash(value: JsonValue): string {
  return sha256Hex(canonicalJson(value));
}
