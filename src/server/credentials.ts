import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time: both are hashed first, so neither their content nor
 * their length shows in how long the comparison takes.
 */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** What a derived token may be used for: a session cookie, or a `?token=` on one SSE connect. */
export type TokenPurpose = 'cookie' | 'query';

const mac = (secret: string, purpose: TokenPurpose, expires: number): string =>
  createHmac('sha256', secret).update(`framelog:${purpose}:${expires}`).digest('base64url');

/**
 * A read-only token derived from the store token: `v1.<expiry ms>.<HMAC>`. It needs no server
 * state, and rotating the store token revokes every one of them.
 */
export function mintDerivedToken(secret: string, purpose: TokenPurpose, ttlMs: number, now = Date.now()): { token: string; expires: number } {
  const expires = now + ttlMs;
  return { token: `v1.${expires}.${mac(secret, purpose, expires)}`, expires };
}

/** True when `token` was minted from `secret` for `purpose` and has not expired. */
export function verifyDerivedToken(token: string, secret: string, purpose: TokenPurpose, now = Date.now()): boolean {
  const m = /^v1\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return false;
  const expires = Number(m[1]);
  if (!tokensEqual(m[2], mac(secret, purpose, expires))) return false;
  return expires > now;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** The value of cookie `name` in a `Cookie` header, or undefined. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
