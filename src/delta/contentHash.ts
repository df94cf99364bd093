import { createHash } from 'node:crypto';
import { canonicalJson } from './canonicalJson.js';
import type { JsonValue } from './types.js';

/** SHA-256 (lowercase hex) of a string's UTF-8 bytes. */
export function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The content hash of a JSON value: SHA-256 of its canonical JSON (PROTOCOL §1). */
export function contentHash(value: JsonValue): string {
  return sha256Hex(canonicalJson(value));
}
