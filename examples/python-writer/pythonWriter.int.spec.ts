// The Python writer against the real CLI: deltas written by Python threads are merged by framelog,
// every one applied, with the content hashes Python computed. Needs python3 (PYTHON overrides) and
// a built CLI (`npm run build`; FRAMELOG_CLI_JS overrides dist/cli/main.js).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const writerPy = join(here, 'framelog_writer.py');
const cliJs = resolve(repo, process.env.FRAMELOG_CLI_JS ?? 'dist/cli/main.js');
const pythonCmd = process.env.PYTHON ?? 'python3';
const ci = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI.toLowerCase());

const pythonVersion = (() => {
  const r = spawnSync(pythonCmd, ['-c', 'import sys; print(sys.version_info >= (3, 8))'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === 'True' ? 'ok' : r.error ? 'missing' : 'too old';
})();
const pythonProblem = pythonVersion === 'ok' ? undefined
  : `${pythonCmd} ${pythonVersion === 'missing' ? 'not found on PATH' : 'is older than 3.8'}: the Python writer test needs it (set PYTHON to another interpreter)`;

/** An independent canonicaliser: keys sorted by UTF-16 code unit (JS default sort), leaves as JSON.stringify writes them. */
const canon = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(canon).join(',')}]`
  : v !== null && typeof v === 'object'
    ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`).join(',')}}`
    : JSON.stringify(v);
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

interface Run { status: number | null; stdout: string; stderr: string }

function runSync(cmd: string, args: string[], input?: string): Run {
  const r = spawnSync(cmd, args, { cwd: repo, input, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

function ok(r: Run, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

const framelog = (...args: string[]): string => ok(runSync(process.execPath, [cliJs, ...args]), `framelog ${args.join(' ')}`);
const ndjson = (text: string): any[] => text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

/** Canonical JSON and SHA-256 of each value, as the Python module computes them. */
function pythonCanonical(values: unknown[]): Array<{ canonical: string; sha256: string }> {
  const input = values.map((v) => JSON.stringify(v)).join('\n') + '\n';
  return ndjson(ok(runSync(pythonCmd, [writerPy, '--canonical'], input), 'framelog_writer.py --canonical'));
}

interface PyDelta { frame: number; writer: string; seq: number; status: 'ok' | 'fallback'; sha256: string; path: string; created: boolean }

describe.skipIf(pythonProblem !== undefined && !ci)('python writer', () => {
  beforeAll(() => {
    if (pythonProblem) throw new Error(pythonProblem);
  });

  describe('canonical JSON: Python and Node agree byte for byte', () => {
    it('on hand-picked vectors', () => {
      const vectors: unknown[] = [
        { b: 1, a: [1.0, 2.5, 'é', { z: null }] },
        { '\uff61': 1, '\u{1f600}': 2, z: 3, é: 4, A: 5, '': 6 },
        [1e21, 1e20, 1.5e21, 1e-7, 1.234e-7, 1e-6, 0.000001234, 0.1, 0.1 + 0.2, -0, 5e-324, -5e-324, 1.7976931348623157e308],
        [2 ** 53, -(2 ** 53), 2 ** 60, 123456789012345680000, 12345678.9, 100, -1.5e-10],
        ['"\\\b\f\n\r\t\u0000\u001f\u007f\u2028\u2029/<>&', 'e\u0301', '\u{1f600}', '\ud800 lone', ''],
        { nested: { deeper: [{ k: [[], {}, [null, true, false]] }] } },
      ];
      const got = pythonCanonical(vectors);
      expect(got.map((g) => g.canonical)).toEqual(vectors.map(canon));
      expect(got.map((g) => g.sha256)).toEqual(vectors.map((v) => sha256(canon(v))));
      expect(got[0].canonical).toBe('{"a":[1,2.5,"é",{"z":null}],"b":1}');
    });

    it('on generated JSON values and doubles', () => {
      const seed = 20260419;
      const values: unknown[] = [
        ...fc.sample(fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }), { numRuns: 300, seed }),
        ...fc.sample(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 50 }), { numRuns: 60, seed }),
        ...fc.sample(fc.dictionary(fc.string({ unit: 'binary', maxLength: 4 }), fc.integer()), { numRuns: 60, seed }),
      ];
      const got = pythonCanonical(values);
      expect(got.length).toBe(values.length);
      for (let i = 0; i < values.length; i++) {
        const want = canon(values[i]);
        if (got[i].canonical !== want) expect({ value: values[i], canonical: got[i].canonical }).toEqual({ value: values[i], canonical: want });
        expect(got[i].sha256).toBe(sha256(want));
      }
    });
  });

  describe('a batch from Python (one .ndjson inbox file), merged by the framelog CLI', () => {
    it('lands as one file and every delta is applied with the hash Python computed', () => {
      const tmp = mkdtempSync(join(tmpdir(), 'framelog-pybatch-'));
      try {
        const store = join(tmp, 'store');
        framelog('init', '--dir', store);
        const script = [
          'import json, sys',
          `sys.path.insert(0, ${JSON.stringify(here)})`,
          'from framelog_writer import Writer',
          `w = Writer(${JSON.stringify(store)}, "py-batch")`,
          'with w.batch() as b:',
          '    for f in range(1, 6):',
          '        for k in range(10):',
          '            b.emit(f, counters={"n": 1}, items={"t": [{"id": "%d-%d" % (f, k)}]})',
          'print(json.dumps([x._asdict() for x in b.written]))',
        ].join('\n');
        const written = JSON.parse(ok(runSync(pythonCmd, ['-c', script]), 'python batch')) as PyDelta[];
        expect(written).toHaveLength(50);
        expect(readdirSync(join(store, 'inbox')).filter((n) => !n.startsWith('.'))).toEqual([basename(written[0].path)]);
        const records = ndjson(framelog('merge', '--dir', store, '--json'));
        const key = (d: { frame: number; writer: string; seq: number; sha256: string }) => `${d.frame}/${d.writer}/${d.seq}/${d.sha256}`;
        expect(records.flatMap((r) => r.applied.map(key)).sort()).toEqual(written.map(key).sort());
        expect(JSON.parse(framelog('state', '--dir', store)).counters).toEqual({ n: 50 });
        expect(readdirSync(join(store, 'inbox')).filter((n) => !n.startsWith('.'))).toEqual([]);
        framelog('verify', '--dir', store);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  });

  describe('deltas from Python threads, merged by the framelog CLI', () => {
    let tmp = '';
    let store = '';
    const frames = 10;
    const threads = 4;
    let written: PyDelta[] = [];
    let inboxHashes = new Map<string, string>();

    beforeAll(async () => {
      if (!existsSync(cliJs)) throw new Error(`${cliJs} not found: build the CLI first (npm run build)`);
      tmp = mkdtempSync(join(tmpdir(), 'framelog-pywriter-'));
      store = join(tmp, 'store');
      framelog('init', '--dir', store);
      // Two processes at once: one Writer per thread (py-own-t0..t3), and four threads sharing one
      // Writer (py-shared). Each has one unit that raises, so a fallback delta is written.
      const common = ['--dir', store, '--frames', String(frames), '--threads', String(threads), '--json'];
      const runs = await Promise.all([
        run(pythonCmd, [writerPy, ...common, '--writer', 'py-own', '--fail', '3:1', '--sample-meta']),
        run(pythonCmd, [writerPy, ...common, '--writer', 'py-shared', '--share', '--fail', '7:2']),
      ]);
      written = runs.flatMap((r, i) => (JSON.parse(ok(r, `python writer run ${i + 1}`)) as { deltas: PyDelta[] }).deltas);
      // Before the merge moves them: what Node computes from the bytes Python wrote.
      for (const name of readdirSync(join(store, 'inbox'))) {
        if (name.startsWith('.')) throw new Error(`temp file left in the inbox: ${name}`);
        inboxHashes.set(name, sha256(canon(JSON.parse(readFileSync(join(store, 'inbox', name), 'utf8')))));
      }
    });

    afterAll(() => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('writes one file per delta, named by its identity and the hash Node computes', () => {
      expect(written.length).toBe(2 * frames * threads);
      expect(inboxHashes.size).toBe(written.length);
      for (const d of written) {
        const name = basename(d.path);
        expect(d.created).toBe(true);
        expect(name).toBe(`frame-${String(d.frame).padStart(6, '0')}.${d.writer}.${d.seq}.${d.sha256.slice(0, 12)}.json`);
        expect(inboxHashes.get(name)).toBe(d.sha256);
      }
      const shared = written.filter((d) => d.writer === 'py-shared' && d.status === 'ok');
      for (let f = 1; f <= frames; f++) {
        const seqs = shared.filter((d) => d.frame === f).map((d) => d.seq).sort((a, b) => a - b);
        expect(seqs).toEqual(f === 7 ? [0, 1, 2] : [0, 1, 2, 3]);
      }
    });

    it('merges: every delta applied with the hash Python computed, the fallbacks listed', () => {
      const records = ndjson(framelog('merge', '--dir', store, '--json'));
      expect(records.map((r) => r.frame)).toEqual(Array.from({ length: frames }, (_, i) => i + 1));
      const log = ndjson(framelog('log', '--dir', store));
      expect(log).toEqual(records);

      const key = (d: { frame: number; writer: string; seq: number; sha256: string }) => `${d.frame}/${d.writer}/${d.seq}/${d.sha256}`;
      const applied = log.flatMap((r) => r.applied.map(key)).sort();
      const expected = written.filter((d) => d.status === 'ok').map(key).sort();
      expect(applied).toEqual(expected);
      expect(applied.length).toBe(2 * frames * threads - 2);

      for (const r of log) {
        expect(r.fallback).toEqual(r.frame === 3 ? ['py-own-t1'] : r.frame === 7 ? ['py-shared'] : []);
        expect(r.quarantined).toEqual([]);
        expect(r.late).toEqual([]);
        expect(r.duplicates).toEqual([]);
        expect(r.conflicts).toBe(0);
      }
      const fallbacks = written.filter((d) => d.status === 'fallback').map((d) => `${d.frame}/${d.writer}`).sort();
      expect(fallbacks).toEqual(['3/py-own-t1', '7/py-shared']);
      expect(readdirSync(join(store, 'inbox')).filter((n) => !n.startsWith('.'))).toEqual([]);
    });

    it('state holds the exact sums, every item and every entity', () => {
      const state = JSON.parse(framelog('state', '--dir', store));
      const units = 2 * frames * threads - 2;
      const frameSum = 2 * threads * (frames * (frames + 1)) / 2 - 3 - 7;
      expect(state.counters).toEqual({ units, frame_sum: frameSum, half: units * 0.5 });
      expect(state.items.tasks.length).toBe(units);
      expect(new Set(state.items.tasks.map((t: { id: string }) => t.id)).size).toBe(units);
      const entityIds = Object.keys(state.entities.threads).sort();
      expect(entityIds).toEqual([0, 1, 2, 3].map((t) => `py-own-t${t}/${t}`).concat([0, 1, 2, 3].map((t) => `py-shared/${t}`)).sort());
      for (const id of entityIds) expect(state.entities.threads[id]).toEqual({ last_frame: frames, ok: true });
    });

    it('verifies', () => {
      framelog('verify', '--dir', store);
    });
  });
});
