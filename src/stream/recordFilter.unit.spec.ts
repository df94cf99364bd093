import { describe, expect, it } from 'vitest';
import { compileRecordFilter, parseWhere } from './recordFilter.js';

describe('record filters', () => {
  it('filters nothing when nothing is asked', () => {
    expect(compileRecordFilter({})).toBeUndefined();
  });

  it('matches any of several types', () => {
    const f = compileRecordFilter({ types: ['task_failed', 'task_complete'] })!;
    expect(f({ type: 'task_failed' })).toBe(true);
    expect(f({ type: 'task_started' })).toBe(false);
    expect(f({})).toBe(false);
  });

  it('compares times as instants: since inclusive, until exclusive, offsets converted', () => {
    const f = compileRecordFilter({ since: '2026-04-19T14:30:00Z', until: '2026-04-19T14:31:00Z' })!;
    expect(f({ ts: '2026-04-19T14:30:00.5Z' })).toBe(true);
    expect(f({ ts: '2026-04-19T14:30:00Z' })).toBe(true);
    expect(f({ ts: '2026-04-19T14:29:59.999Z' })).toBe(false);
    expect(f({ ts: '2026-04-19T16:30:30+02:00' })).toBe(true);
    expect(f({ ts: '2026-04-19T14:31:00Z' })).toBe(false);
    expect(f({ ts: 'garbage' })).toBe(false);
    expect(f({})).toBe(false);
  });

  it('matches field equality on dotted paths, JSON or text', () => {
    const f = compileRecordFilter({ where: [parseWhere('agent.id=42'), parseWhere('status=done')] })!;
    expect(f({ agent: { id: 42 }, status: 'done' })).toBe(true);
    expect(f({ agent: { id: '42' }, status: 'done' })).toBe(true);
    expect(f({ agent: { id: 43 }, status: 'done' })).toBe(false);
    expect(f({ agent: 42, status: 'done' })).toBe(false);
    const quoted = compileRecordFilter({ where: [parseWhere('n="3"'), parseWhere('ok=true'), parseWhere('tags=["a"]')] })!;
    expect(quoted({ n: '3', ok: true, tags: ['a'] })).toBe(true);
    expect(quoted({ n: 3, ok: true, tags: ['a'] })).toBe(false);
    expect(compileRecordFilter({ where: [parseWhere('x=null')] })!({ x: null })).toBe(true);
  });

  it('refuses a where that is not field=value, and bad times', () => {
    expect(() => parseWhere('status')).toThrow(/not field=value/);
    expect(() => parseWhere('=x')).toThrow(/not field=value/);
    expect(() => parseWhere('a..b=1')).toThrow(/empty part/);
    expect(() => compileRecordFilter({ since: 'noon' })).toThrow(/since "noon"/);
  });
});
