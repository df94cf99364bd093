import * as crypto from 'node:crypto';
import { WRITER_NAME } from '../delta/plan.js';

/** SHA-256 hex of bytes: `crypto.hash` where Node has it (20.12+, one call, no Hash object), else `createHash`. */
const sha256: (b: Uint8Array) => string = typeof (crypto as { hash?: unknown }).hash === 'function'
  ? (b) => (crypto as unknown as { hash(alg: string, data: Uint8Array, enc: 'hex'): string }).hash('sha256', b, 'hex')
  : (b) => crypto.createHash('sha256').update(b).digest('hex');

/**
 * The dedup key a transport stores beside a delta: identity + SHA-256 of the bytes as received,
 * `<frame>/<writer>/<seq>/<sha256>` (`unparsed/<sha256>` for bytes that are no JSON object with an
 * identity; the merger quarantines those). Two copies share a key only when their bytes are equal,
 * so a copy with a known identity and other content is never taken for a duplicate.
 */
export function transportKey(bytes: Uint8Array): string {
  const sha = sha256(bytes);
  let id: unknown;
  try {
    id = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return `unparsed/${sha}`;
  }
  if (typeof id !== 'object' || id === null) return `unparsed/${sha}`;
  const { frame, writer, seq } = id as { frame?: unknown; writer?: unknown; seq?: unknown };
  if (!Number.isSafeInteger(frame) || typeof writer !== 'string' || !WRITER_NAME.test(writer)) return `unparsed/${sha}`;
  return `${frame}/${writer}/${Number.isSafeInteger(seq) ? seq : 0}/${sha}`;
}

/** The key's parts: `frame` and `writer` are undefined for an unparsed key. */
export function parseTransportKey(key: string): { frame?: number; writer?: string; seq?: number; sha256: string } {
  const parts = key.split('/');
  if (parts[0] === 'unparsed') return { sha256: parts[1] };
  return { frame: Number(parts[0]), writer: parts[1], seq: Number(parts[2]), sha256: parts[3] };
}
