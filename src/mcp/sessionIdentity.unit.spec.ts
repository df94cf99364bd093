import { describe, expect, it } from 'vitest';
import { createRateLimit } from './emitLimits.js';
import { writerFor, type SessionIdentity } from './sessionIdentity.js';
import { mintWriterToken, writerOfToken } from './writerToken.js';

describe('MCP session identity, writer tokens and the rate limit', () => {
  it('a fixed session writes as its writer only; a first-write session keeps its first writer; any needs a name; none never writes', () => {
    const fixed: SessionIdentity = { kind: 'fixed', writer: 'a', because: 'test' };
    expect(writerFor(fixed, undefined)).toBe('a');
    expect(writerFor(fixed, 'a')).toBe('a');
    expect(() => writerFor(fixed, 'b')).toThrow(/writer: b refused: this session writes as a/);
    const first: SessionIdentity = { kind: 'first' };
    expect(() => writerFor(first, undefined)).toThrow(/writer: missing/);
    expect(writerFor(first, 'x')).toBe('x');
    expect(writerFor(first, undefined)).toBe('x');
    expect(() => writerFor(first, 'y')).toThrow(/y refused: this session writes as x/);
    expect(writerFor({ kind: 'any' }, 'q')).toBe('q');
    expect(() => writerFor({ kind: 'any' }, undefined)).toThrow(/writer: missing/);
    expect(() => writerFor({ kind: 'none', because: 'no token' }, 'a')).toThrow(/cannot write: no token/);
    expect(() => writerFor({ kind: 'any' }, '../x')).toThrow(/not a writer name/);
  });

  it('a writer token names its writer, for its store only; a forged or altered one names nobody', () => {
    const t = mintWriterToken('secret-one', 'agent.a-1');
    expect(writerOfToken(t, 'secret-one')).toBe('agent.a-1');
    expect(writerOfToken(t, 'secret-two')).toBeUndefined();
    expect(writerOfToken(t.replace(/agent\.a-1$/, 'agent.b-1'), 'secret-one')).toBeUndefined();
    expect(writerOfToken('secret-one', 'secret-one')).toBeUndefined();
    expect(writerOfToken(`${t.slice(0, -1)}`, 'secret-one')).toBeUndefined();
  });

  it('the rate limit allows a burst, then the rate; refused calls cost nothing; it says when to retry', () => {
    let now = 0;
    const r = createRateLimit({ perSecond: 2, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) {
      r.check('emit');
      r.spend();
    }
    expect(() => r.check('emit')).toThrow(/rate limit of 2 writes\/s per session \(burst 3\) reached; retry in 500 ms/);
    expect(() => r.check('emit')).toThrow(/retry in 500 ms/); // a refused check spends nothing
    now = 500;
    r.check('emit');
    r.spend();
    expect(() => r.check('emit')).toThrow(/retry in 500 ms/);
    now = 10_000;
    for (let i = 0; i < 3; i++) {
      r.check('emit');
      r.spend();
    }
    expect(() => r.check('emit')).toThrow(/rate limit/);
  });
});
