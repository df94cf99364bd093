import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, parsePlan } from './plan.js';
import { describeProblem, parseDelta, validateDelta } from './validateDelta.js';

const ok = { frame: 1, writer: 'w1', utc: '2026-04-19T14:30:01Z' };
const reason = (raw: unknown, plan = DEFAULT_PLAN): string => {
  const c = validateDelta(raw, plan);
  return c.ok ? 'ok' : describeProblem(c.problem);
};
const reasonOf = (text: string | Uint8Array, plan = DEFAULT_PLAN): string => {
  const c = parseDelta(typeof text === 'string' ? Buffer.from(text) : text, plan);
  return c.ok ? 'ok' : describeProblem(c.problem);
};

describe('duplicate keys (issue #20 point 13)', () => {
  it('refuses a name repeated in one object, naming where, at any depth', () => {
    expect(reasonOf('{"frame":1,"frame":7,"writer":"w","utc":"2026-04-19T14:30:01Z"}')).toBe('frame: duplicate key: a name appears twice in one object (I-JSON, RFC 7493)');
    expect(reasonOf('{"frame":1,"writer":"w","utc":"2026-04-19T14:30:01Z","set":{"a":{"x":{"v":1,"w":2,"v":3}}}}')).toBe('set.a.x.v: duplicate key: a name appears twice in one object (I-JSON, RFC 7493)');
    expect(reasonOf('{"frame":1,"writer":"w","utc":"2026-04-19T14:30:01Z","items":{"log":[{"id":1},{"id":2,"id":2}]}}')).toMatch(/^items\.log\.id: duplicate key/);
    expect(reasonOf(String.raw`{"frame":1,"writer":"w","utc":"2026-04-19T14:30:01Z","meta":{"a\\":1,"a\\\\":2,"b\"":3,"b":4}}`)).toBe('ok'); // different names once unescaped
  });

  it('accepts the same name in sibling objects, and colons and quotes inside strings', () => {
    expect(reasonOf(String.raw`{"frame":1,"writer":"w","utc":"2026-04-19T14:30:01Z","set":{"a":{"x":{"v":1},"y":{"v":2}}},"meta":{"note":"a:b \"c\": d","frame":2}}`)).toBe('ok');
  });
});

describe('validateDelta', () => {
  it('names the field and the rule for every quarantine kind', () => {
    expect(reason([1, 2, 3])).toBe('delta is not an object');
    expect(reason({ ...ok, utc: 'yesterday' })).toMatch(/^utc: utc is not an RFC 3339 timestamp/);
    expect(reason({ ...ok, status: 'fallback', counters: {} })).toBe('counters: fallback delta carries operations');
    expect(reason({ ...ok, frame: -1 })).toMatch(/^frame: bad frame/);
    expect(reason({ ...ok, frame: null })).toMatch(/^frame: bad frame/);
    expect(reason({ ...ok, frame: 1.5 })).toMatch(/^frame: bad frame/);
    expect(reason({ ...ok, counters: { ok: '1' } })).toMatch(/^counters\.ok: bad counters/);
    // Counter steps are bounded so that no sum overflows (issue #20 point 8): 2^53 is the largest.
    expect(reason({ ...ok, counters: { big: 2 ** 53, small: -(2 ** 53), f: 0.25 } })).toBe('ok');
    expect(reason({ ...ok, counters: { big: 1.7976931348623157e308 } })).toBe('counters.big: bad counters: must be a finite number from -2^53 to 2^53, so no sum of them can overflow (got 1.7976931348623157e+308)');
    expect(reason({ ...ok, counters: { big: -(2 ** 53) - 2 } })).toMatch(/^counters\.big: bad counters: must be a finite number from -2\^53 to 2\^53/);
    expect(reason({ ...ok, frame: 2 ** 53 - 1 })).toMatch(/^frame: bad frame: must be an integer from 0 to 9007199254740990/);
    expect(reason({ ...ok, frame: 2 ** 53 - 2 })).toBe('ok');
    expect(reason({ ...ok, writer: '../../etc' })).toMatch(/^writer: bad writer/);
    expect(reason({ ...ok, writer: '..' })).toMatch(/^writer: bad writer/);
    expect(reason({ ...ok, writer: 'x'.repeat(129) })).toMatch(/^writer: bad writer/);
    expect(reason({ ...ok, verdict: 'pass' })).toMatch(/^verdict: unknown key verdict/);
    expect(reason({ ...ok, seq: -1 })).toMatch(/^seq: bad seq/);
    expect(reason({ ...ok, status: 'done' })).toMatch(/^status: bad status/);
    expect(reason({ ...ok, items: { p: [1] } })).toMatch(/^items\.p\[0\]: bad items/);
    expect(reason({ ...ok, set: { t: { i: 5 } } })).toMatch(/^set\.t\.i: bad set/);
    expect(reason({ ...ok, events: [{ type: 'x' }, 'y'] })).toMatch(/^events\[1\]: bad events/);
    expect(reason({ ...ok, set: { __proto__: 1 } })).toBe('ok'); // an object literal's __proto__ is its prototype, not a key
    expect(reason(JSON.parse('{"frame":1,"writer":"w","utc":"2026-04-19T14:30:01Z","set":{"__proto__":{"1":{"a":1}}}}'))).toMatch(/__proto__: reserved key/);
    expect(reason({ ...ok, counters: { constructor: 1 } })).toMatch(/counters\.constructor: reserved name/);
    expect(reason({ frame: 1, writer: 'a', stream_id: 'a', utc: ok.utc })).toMatch(/give one of writer, stream_id, writer_id/);
  });

  it('accepts the aliases and a plan-mapped shape; refuses mapped operations on a fallback', () => {
    expect(reason({ frame: 1, stream_id: 'w', utc: ok.utc })).toBe('ok');
    expect(reason({ frame: 1, writer_id: 'w', utc: ok.utc })).toBe('ok');
    const plan = parsePlan({ shape: { items_created: { items: 'posts' } } });
    expect(reason({ ...ok, items_created: [{ id: 1 }] }, plan)).toBe('ok');
    expect(reason({ ...ok, status: 'fallback', items_created: [] }, plan)).toBe('items_created: fallback delta carries operations');
    expect(reason({ ...ok, status: 'fallback', meta: { error: 'boom' } })).toBe('ok');
  });

  it('parses bytes strictly: size, UTF-8, depth, syntax, finite numbers', () => {
    expect(reasonOf('hello')).toMatch(/^not JSON/);
    expect(reasonOf('{"frame":1,"writer":"w2","utc":"2026-04-19T14:30:01Z","counters":{"ok":1')).toMatch(/^not JSON/);
    expect(reasonOf(`{"frame":1,"writer":"w","utc":"${ok.utc}","counters":{"big":1e999}}`)).toBe('counters.big: non-finite number');
    expect(reasonOf(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))).toBe('not valid UTF-8');
    expect(reasonOf('['.repeat(100000))).toMatch(/nests deeper than 64/);
    const deep = `{"frame":1,"writer":"w","utc":"${ok.utc}","meta":${'['.repeat(64)}${']'.repeat(64)}}`; // 65 levels
    expect(reasonOf(deep)).toMatch(/nests deeper than 64/);
    expect(reasonOf(`{"frame":1,"writer":"w","utc":"${ok.utc}","meta":${'['.repeat(63)}${']'.repeat(63)}}`)).toBe('ok'); // 64 levels
    const small = parsePlan({ maxDeltaBytes: 100 });
    expect(reasonOf(JSON.stringify({ ...ok, meta: 'x'.repeat(200) }), small)).toMatch(/over maxDeltaBytes \(100\)/);
    expect(reasonOf(`{"frame":1.0,"writer":"w","utc":"${ok.utc}"}`)).toBe('ok');
  });

  it('orders operations canonically, so key order on disk never changes how a delta applies', () => {
    const a = parseDelta(Buffer.from('{"frame":1,"writer":"w","utc":"2026-04-19T14:30:01Z","items":{"b":[{"id":1}],"a":[{"id":2}]},"counters":{"y":1,"x":2}}'), DEFAULT_PLAN);
    const b = parseDelta(Buffer.from('{"counters":{"x":2,"y":1},"items":{"a":[{"id":2}],"b":[{"id":1}]},"utc":"2026-04-19T14:30:01Z","writer":"w","frame":1}'), DEFAULT_PLAN);
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) {
      expect(a.delta).toEqual(b.delta);
      expect(a.delta.sha256).toBe(b.delta.sha256);
    }
  });
});

describe('parsePlan', () => {
  it('fills defaults and names the field of a bad plan', () => {
    expect(parsePlan({})).toMatchObject({ version: 1, maxDeltaBytes: 1048576, frameTimeoutMs: 30000 });
    expect(parsePlan({}).snapshotEvery).toBeUndefined(); // v1.1: checkpoints follow the bytes merged
    expect(parsePlan({ snapshotEvery: 7 }).snapshotEvery).toBe(7);
    expect(() => parsePlan({ snapshotEvery: 0 })).toThrow(/framelog\.json: snapshotEvery: must be an integer from 1/);
    expect(() => parsePlan({ shape: { frame: 'counters' } })).toThrow(/shape\.frame: cannot remap/);
    expect(() => parsePlan({ writers: ['a', 'a'] })).toThrow(/writers: lists a twice/);
    expect(() => parsePlan({ colour: 'red' })).toThrow(/colour: unknown plan field/);
    expect(() => parsePlan({ keys: { posts: [] } })).toThrow(/keys\.posts/);
  });
});

describe('policies and resolves (PROTOCOL v1.1 §2a): one-line errors naming the field', () => {
  const planError = (raw: unknown): string => {
    try {
      parsePlan(raw);
      return 'ok';
    } catch (e) {
      return (e as Error).message;
    }
  };
  it('accepts every policy, "*" as a field, and priority lists of names and prefixes', () => {
    const plan = parsePlan({ policies: { agents: { load: 'max', floor: 'min', note: 'first', tags: 'union', mode: 'lww', status: { priority: ['boss', 'w*'] }, '*': 'first' } } });
    expect(plan.policies?.agents.status).toEqual({ priority: ['boss', 'w*'] });
    expect(parsePlan({}).policies).toBeUndefined(); // a plan without policies keeps its hash
  });
  it('refuses an unknown policy, a priority that is not a list of writer patterns, and a bad shape', () => {
    expect(planError({ policies: { agents: { load: 'biggest' } } })).toBe('framelog.json: policies.agents.load: unknown policy "biggest" (one of lww, first, max, min, union, or {"priority": ["writer", "prefix*"]})');
    expect(planError({ policies: { agents: { s: { priority: 'boss' } } } })).toMatch(/^framelog\.json: policies\.agents\.s\.priority: must be a non-empty list of writer names or prefixes/);
    expect(planError({ policies: { agents: { s: { priority: [] } } } })).toMatch(/^framelog\.json: policies\.agents\.s\.priority: must be a non-empty list/);
    expect(planError({ policies: { agents: { s: { priority: ['a b'] } } } })).toMatch(/policies\.agents\.s\.priority: must be/);
    expect(planError({ policies: { agents: { s: { priority: ['a', 'a'] } } } })).toBe('framelog.json: policies.agents.s.priority: lists a twice');
    expect(planError({ policies: { agents: { s: { priority: ['a'], extra: 1 } } } })).toMatch(/policies\.agents\.s: unknown policy/);
    expect(planError({ policies: { agents: 'max' } })).toBe('framelog.json: policies.agents: must be an object: field (or "*") → policy');
    expect(planError({ policies: ['max'] })).toBe('framelog.json: policies: must be an object: entity type → field → policy');
    expect(planError({ policies: { __proto__x: {}, constructor: { a: 'max' } } })).toMatch(/policies\.constructor: entity type is reserved/);
  });
  it('refuses a resolves that is not a non-empty array of distinct conflict ids, or on a fallback', () => {
    const base = { frame: 2, writer: 'human.ana', utc: '2026-04-19T14:00:00Z' };
    expect(reason({ ...base, resolves: ['m1.0', 'm12.3'] })).toBe('ok');
    expect(reason({ ...base, resolves: 'm1.0' })).toBe('resolves: bad resolves: must be a non-empty array of conflict ids like "m530.0" (got "m1.0")');
    expect(reason({ ...base, resolves: [] })).toMatch(/^resolves: bad resolves: must be a non-empty array/);
    expect(reason({ ...base, resolves: ['m1.0', 'x'] })).toBe('resolves[1]: bad resolves: not a conflict id like "m530.0" (got "x")');
    expect(reason({ ...base, resolves: ['m01.0'] })).toMatch(/^resolves\[0\]: bad resolves: not a conflict id/);
    expect(reason({ ...base, resolves: [7] })).toMatch(/^resolves\[0\]: bad resolves: not a conflict id/);
    expect(reason({ ...base, resolves: ['m1.0', 'm1.0'] })).toBe('resolves[1]: bad resolves: names m1.0 twice');
    expect(reason({ ...base, status: 'fallback', resolves: ['m1.0'] })).toBe('resolves: a fallback delta resolves nothing (it carries no writes)');
  });
});
