import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseTransportKey, transportKey } from './transportKey.js';

const sha = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');

describe('transportKey', () => {
  it('is identity + SHA-256 of the bytes as received, so copies differing in one byte never share a key', () => {
    const a = '{"frame":7,"writer":"w.1","seq":2,"utc":"2026-01-01T00:00:00Z"}';
    const b = '{"frame":7, "writer":"w.1","seq":2,"utc":"2026-01-01T00:00:00Z"}';
    expect(transportKey(Buffer.from(a))).toBe(`7/w.1/2/${sha(a)}`);
    expect(transportKey(Buffer.from(b))).not.toBe(transportKey(Buffer.from(a)));
    expect(parseTransportKey(transportKey(Buffer.from(a)))).toEqual({ frame: 7, writer: 'w.1', seq: 2, sha256: sha(a) });
    expect(transportKey(Buffer.from('{"frame":1,"writer":"a"}'))).toBe(`1/a/0/${sha('{"frame":1,"writer":"a"}')}`);
  });
  it('bytes with no identity (not JSON, invalid UTF-8, no object, a writer name the protocol refuses) are keyed by their hash alone', () => {
    for (const bytes of [Buffer.from('{"frame":'), Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('[1]'), Buffer.from(''), Buffer.from('{"frame":1,"writer":"a/b"}'), Buffer.from('{"frame":1.5,"writer":"a"}')]) {
      expect(transportKey(bytes)).toBe(`unparsed/${sha(bytes)}`);
      expect(parseTransportKey(transportKey(bytes))).toEqual({ sha256: sha(bytes) });
    }
  });
});
