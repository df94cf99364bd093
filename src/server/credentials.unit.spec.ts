import { describe, expect, it } from 'vitest';
import { bearerOf, cookieOf, mintDerivedToken, tokensEqual, verifyDerivedToken } from './credentials.js';
import { parseHostHeader } from './requestGuards.js';
import { frameRange, limitParam, streamNameParam, wholeNumber, writerParam } from './queryParams.js';
import { isLoopback } from './ServerOptions.js';

describe('tokensEqual', () => {
  it('is true only for the same token, whatever the lengths', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
    expect(tokensEqual('', 'a')).toBe(false);
  });
});

describe('derived read tokens', () => {
  const secret = 'x'.repeat(43);
  it('verify for their purpose until they expire, and never after a rotation', () => {
    const { token, expires } = mintDerivedToken(secret, 'query', 1000, 5000);
    expect(expires).toBe(6000);
    expect(verifyDerivedToken(token, secret, 'query', 5999)).toBe(true);
    expect(verifyDerivedToken(token, secret, 'query', 6000)).toBe(false);
    expect(verifyDerivedToken(token, secret, 'cookie', 5500)).toBe(false);
    expect(verifyDerivedToken(token, 'y'.repeat(43), 'query', 5500)).toBe(false);
    expect(verifyDerivedToken(token.replace(/\.6000\./, '.9999999.'), secret, 'query', 5500)).toBe(false);
    expect(verifyDerivedToken('v1.9.x', secret, 'query', 0)).toBe(false);
  });
});

describe('header parsing', () => {
  it('reads a bearer token and a cookie', () => {
    expect(bearerOf('Bearer abc')).toBe('abc');
    expect(bearerOf('bearer   abc ')).toBe('abc');
    expect(bearerOf('Basic abc')).toBeUndefined();
    expect(bearerOf('Bearer a b')).toBeUndefined();
    expect(cookieOf('a=1; framelog_session=v1.2.x; b=3', 'framelog_session')).toBe('v1.2.x');
    expect(cookieOf('xframelog_session=1', 'framelog_session')).toBeUndefined();
  });

  it('splits Host into name and port', () => {
    expect(parseHostHeader('localhost:4600')).toEqual({ name: 'localhost', port: 4600 });
    expect(parseHostHeader('[::1]:4600')).toEqual({ name: '::1', port: 4600 });
    expect(parseHostHeader('Example.COM')).toEqual({ name: 'example.com', port: undefined });
    expect(parseHostHeader('a:b:c')).toBeUndefined();
    expect(parseHostHeader('')).toBeUndefined();
    expect(isLoopback('127.0.0.2')).toBe(true);
    expect(isLoopback('[::1]')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
  });
});

describe('query parameters', () => {
  it('accepts whole numbers, ranges and names, and refuses the rest with 400', () => {
    expect(wholeNumber('12', 'x')).toBe(12);
    expect(frameRange('3..', 'frame')).toEqual({ from: 3, to: undefined });
    expect(frameRange('..4', 'frame')).toEqual({ from: undefined, to: 4 });
    expect(limitParam({})).toBe(100);
    expect(streamNameParam('a.b-c_1')).toBe('a.b-c_1');
    expect(writerParam('worker-3')).toBe('worker-3');
    for (const bad of ['', '-1', '1.5', ' 1', '1 ', '0x1', '1e2', '12345678901234567']) expect(() => wholeNumber(bad, 'x'), bad).toThrow(expect.objectContaining({ status: 400 }));
    for (const bad of ['..', '.', 'a/b', 'a\\b', 'a\u0000b', '/etc/passwd', 'x'.repeat(129), 'é']) expect(() => streamNameParam(bad), bad).toThrow(expect.objectContaining({ status: 400, code: 'bad-name' }));
  });
});
