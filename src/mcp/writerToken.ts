import { createHmac } from 'node:crypto';
import { isWriterName } from '../delta/plan.js';
import { tokensEqual } from '../server/credentials.js';

const PREFIX = 'fw1.';
const mac = (secret: string, writer: string): string => createHmac('sha256', secret).update(`framelog:writer:${writer}`).digest('base64url');

/**
 * A writer token: `fw1.<HMAC>.<writer>`, derived from the store token. Whoever holds it may write
 * as that writer and no other. It needs no server state; rotating the store token
 * (`framelog token --rotate`) revokes every writer token at once.
 */
export function mintWriterToken(secret: string, writer: string): string {
  return `${PREFIX}${mac(secret, writer)}.${writer}`;
}

/** The writer a writer token was minted for, or undefined when it is not one of `secret`'s. */
export function writerOfToken(token: string, secret: string): string | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const m = /^([A-Za-z0-9_-]{43})\.(.+)$/.exec(token.slice(PREFIX.length));
  if (!m || !isWriterName(m[2])) return undefined;
  return tokensEqual(m[1], mac(secret, m[2])) ? m[2] : undefined;
}
