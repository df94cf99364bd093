import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseJsonArgument, parseNdjsonInput } from './parseNdjsonInput.js';

const suite = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../testing/data/jsontestsuite');

describe('parseNdjsonInput', () => {
  it('reads one object per line, skipping blank lines', () => {
    expect(parseNdjsonInput(Buffer.from('{"a":1}\n\n{"b":2}\r\n'), 'stdin')).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('names the bad line', () => {
    expect(() => parseNdjsonInput(Buffer.from('{"a":1}\n{"b":\n'), 'stdin')).toThrow(/^stdin line 2: not JSON/);
    expect(() => parseNdjsonInput(Buffer.from('{"a":1}\n[1]\n'), 'stdin')).toThrow(/stdin line 2: got an array; a record must be a JSON object/);
    expect(() => parseNdjsonInput(Buffer.from('{"a":1}\n{"b":"\xff"}\n', 'latin1'), 'stdin')).toThrow(/stdin: line 2 is not valid UTF-8/);
    expect(() => parseNdjsonInput(Buffer.from('\n'), 'stdin')).toThrow(/no record given/);
    expect(() => parseJsonArgument('42', 'argument')).toThrow(/argument: got a number/);
  });

  it('refuses every n_ file of JSONTestSuite, accepts every y_ file that is an object', () => {
    const files = fs.readdirSync(suite);
    let refused = 0;
    for (const f of files.filter((f) => f.startsWith('n_'))) {
      expect(() => parseNdjsonInput(fs.readFileSync(path.join(suite, f)), f), f).toThrow();
      refused++;
    }
    expect(refused).toBe(188);
    for (const f of files.filter((f) => f.startsWith('y_'))) {
      const text = fs.readFileSync(path.join(suite, f), 'utf8');
      const v: unknown = JSON.parse(text);
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !text.trim().includes('\n')) {
        // JSON allows a name twice in one object; I-JSON (RFC 7493) does not, and a stream would keep only the last.
        if (f.startsWith('y_object_duplicated_key')) expect(() => parseNdjsonInput(fs.readFileSync(path.join(suite, f)), f), f).toThrow(/duplicate key "a"/);
        else expect(parseNdjsonInput(fs.readFileSync(path.join(suite, f)), f), f).toEqual([v]);
      }
    }
  });

  it('refuses what the stream would lose in silence: a name twice in one object, a -0 (#20 point 13)', () => {
    expect(() => parseNdjsonInput(Buffer.from('{"a":1}\n{"id":1,"id":7}\n'), 'stdin')).toThrow(/^stdin line 2: duplicate key "id": a name appears twice in one object \(I-JSON, RFC 7493\)/);
    expect(() => parseJsonArgument('{"x":{"k":1,"k":2}}', 'argument')).toThrow(/^argument: duplicate key "x.k"/);
    expect(() => parseJsonArgument('{"t":-0}', 'argument')).toThrow(/^argument: -0 at t: JSON writes it as 0/);
    expect(() => parseNdjsonInput(Buffer.from('{"v":[1,-0.0]}'), 'stdin')).toThrow(/^stdin: -0 at v\[1\]/);
    // What looks alike but loses nothing.
    expect(parseNdjsonInput(Buffer.from('{"a":-0.5,"b":"-0","c":0,"d":{"a":1},"e":[{"a":1},{"a":2}]}'), 'stdin')).toEqual([{ a: -0.5, b: '-0', c: 0, d: { a: 1 }, e: [{ a: 1 }, { a: 2 }] }]);
  });
});
