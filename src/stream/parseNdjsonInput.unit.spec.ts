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
        expect(parseNdjsonInput(fs.readFileSync(path.join(suite, f)), f), f).toEqual([v]);
      }
    }
  });
});
