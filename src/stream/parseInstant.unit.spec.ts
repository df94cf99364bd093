import { describe, expect, it } from 'vitest';
import { parseInstant, requireInstant } from './parseInstant.js';

describe('parseInstant', () => {
  it('compares instants, not strings: …:00.5Z is later than …:00Z', () => {
    expect(parseInstant('2026-04-19T14:30:00.5Z')!).toBeGreaterThan(parseInstant('2026-04-19T14:30:00Z')!);
    expect('2026-04-19T14:30:00.5Z' < '2026-04-19T14:30:00Z').toBe(true); // what string order would say
  });

  it('converts offsets', () => {
    expect(parseInstant('2026-04-19T16:30:00+02:00')).toBe(parseInstant('2026-04-19T14:30:00Z'));
    expect(parseInstant('2026-04-19T14:00:00-00:30')).toBe(parseInstant('2026-04-19T14:30:00Z'));
  });

  it('keeps sub-millisecond digits as a fraction', () => {
    expect(parseInstant('2026-04-19T14:30:00.0001Z')!).toBeGreaterThan(parseInstant('2026-04-19T14:30:00Z')!);
    expect(parseInstant('2026-04-19T14:30:00.120Z')).toBe(Date.UTC(2026, 3, 19, 14, 30, 0, 120));
  });

  it('refuses what is not RFC 3339', () => {
    for (const bad of ['2026-04-19', '2026-04-19T14:30:00', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', 'yesterday', '2026-04-19T24:00:00Z', '2026-04-19T14:30:00+2:00']) {
      expect(parseInstant(bad), bad).toBeUndefined();
    }
    expect(parseInstant('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(() => requireInstant('soon', '--since')).toThrow(/--since "soon" is not an RFC 3339 timestamp/);
  });
});
