import { describe, expect, it } from 'vitest';
import { encodeRecords } from './encodeRecords.js';

const NOW = '2026-04-19T14:30:22.120Z';

describe('encodeRecords', () => {
  it('writes one line per record and puts ts first when absent', () => {
    const { text, count } = encodeRecords([{ type: 'task_started', task: 1 }, {}], 1000, NOW);
    expect(count).toBe(2);
    expect(text).toBe(`{"ts":"${NOW}","type":"task_started","task":1}\n{"ts":"${NOW}"}\n`);
  });

  it('keeps a given ts and refuses one that is not RFC 3339', () => {
    expect(encodeRecords([{ ts: '2026-01-01T00:00:00+02:00', a: 1 }], 1000, NOW).text).toBe('{"ts":"2026-01-01T00:00:00+02:00","a":1}\n');
    expect(() => encodeRecords([{ ts: 'today' }], 1000, NOW)).toThrow(/"ts" "today": it must be an RFC 3339 timestamp/);
    expect(() => encodeRecords([{ ts: 5 }], 1000, NOW)).toThrow(/RFC 3339/);
  });

  it('escapes newlines inside strings so a record stays on one line', () => {
    const { text } = encodeRecords([{ note: 'a\nb\u2028' }], 1000, NOW);
    expect(text.split('\n')).toHaveLength(2);
  });

  it('refuses non-objects, non-finite numbers and unserialisable values, naming the record', () => {
    const bad: unknown[] = [null, [1], 'x', 3];
    for (const b of bad) expect(() => encodeRecords([b as never], 1000, NOW)).toThrow(/not a JSON object/);
    expect(() => encodeRecords([{}, { x: [1, Infinity] }], 1000, NOW)).toThrow(/record 2 of 2 holds the number Infinity/);
    expect(() => encodeRecords([{ x: NaN }], 1000, NOW)).toThrow(/NaN/);
    expect(() => encodeRecords([{ x: 10n }], 1000, NOW)).toThrow(/cannot be serialised/);
    expect(encodeRecords([{ x: null, d: new Date(0) }], 1000, NOW).text).toContain('"x":null,"d":"1970-01-01T00:00:00.000Z"');
  });

  it('refuses a record over the limit, counting UTF-8 bytes', () => {
    const limit = 100;
    const fits = { s: 'x'.repeat(limit - `{"ts":"${NOW}","s":""}`.length) };
    expect(() => encodeRecords([fits], limit, NOW)).not.toThrow();
    expect(() => encodeRecords([{ s: fits.s + 'x' }], limit, NOW)).toThrow(/is 101 bytes, over the limit of 100 bytes/);
    expect(() => encodeRecords([{ s: 'é'.repeat(40) }], limit, NOW)).toThrow(/over the limit/);
  });
});
