import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeHash } from '../testing/treeHash.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-cli-'));
const store = join(root, 'store');
const run = (args: string[], input?: string, env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli/main.js is missing: run npm run build first');
  expect(run(['init', '--dir', store]).code).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('framelog CLI', () => {
  it('puts NDJSON from stdin, merges, and prints state, log, conflicts and events for programs', () => {
    const lines = [
      { frame: 1, writer: 'w1', utc: '2026-04-19T14:30:01Z', counters: { n: 1 }, set: { a: { '1': { s: 'x' } } }, events: [{ type: 'migration', from: 'n', to: 's' }] },
      { frame: 1, writer: 'w2', utc: '2026-04-19T14:30:02Z', counters: { n: 2 }, set: { a: { '1': { s: 'y' } } } },
    ].map((d) => JSON.stringify(d)).join('\n') + '\n\n';
    expect(run(['put', '-', '--dir', store], lines)).toMatchObject({ code: 0, out: 'put 2 deltas\n' });
    const merged = run(['merge', '--dir', store, '--json']);
    expect(merged.code).toBe(0);
    expect(JSON.parse(merged.out)).toMatchObject({ frame: 1, conflicts: 1 });
    expect(run(['state', '--dir', store]).out).toBe('{"counters":{"n":3},"entities":{"a":{"1":{"s":"y"}}},"items":{}}\n');
    expect(run(['state', '--at', '0'], undefined, { FRAMELOG_DIR: store }).out).toBe('{"counters":{},"entities":{},"items":{}}\n');
    expect(JSON.parse(run(['conflicts', '--dir', store, '--field', 's', '--writer', 'w1']).out)).toMatchObject({ kind: 'field', winner: { value: 'y' } });
    expect(run(['conflicts', '--dir', store, '--writer', 'nobody']).out).toBe('');
    expect(JSON.parse(run(['events', '--dir', store, '--type', 'migration']).out)).toMatchObject({ merge: 1, writer: 'w1', event: { to: 's' } });
    expect(run(['log', '--dir', store]).out.trim().split('\n')).toHaveLength(1);
    expect(run(['verify', '--dir', store])).toMatchObject({ code: 0, out: expect.stringMatching(/^ok: 1 merges/) });
    const diff = run(['diff', '0', '1', '--dir', store]);
    expect(diff.out).toContain('set a/1.s: ∅ → "y"  by w2 @ frame 1');
    expect(diff.out).not.toMatch(/\u001b\[/); // no colour without a TTY
    expect(JSON.parse(run(['diff', '0', '1', '--dir', store, '--json']).out).counters).toEqual([{ name: 'n', old: 0, new: 3, delta: 3 }]);
  });

  it('refuses bad input with one line naming what and where, exit 1, and the store untouched', () => {
    const before = treeHash(store);
    const bad = join(root, 'bad.json');
    writeFileSync(bad, '{"frame":2,"writer":"w1","utc":"2026-04-19T14:30:01Z","counters":{"n":"1"}}');
    const cases: Array<[string[], string | undefined, RegExp]> = [
      [['put', bad, '--dir', store], undefined, /^framelog: .*bad\.json: counters\.n: bad counters: must be a finite number from -2\^53 to 2\^53, so no sum of them can overflow \(got "1"\)$/],
      [['put', '-', '--dir', store], '{"frame":2,"writer":"w1","utc":"2026-04-19T14:30:01Z"}\n{"frame":2,"writer":"w1","utc":"2026-04-19T14:30:01Z","x":1}\n', /^framelog: stdin:2: x: unknown key x/],
      [['put', join(root, 'missing.json'), '--dir', store], undefined, /missing\.json: cannot read \(ENOENT\)/],
      [['state', '--at', 'twelve', '--dir', store], undefined, /^framelog: --at: not a frame number: "twelve"/],
      [['diff', '1', '-2', '--dir', store], undefined, /.+/],
      [['merge', '--through', '1', '--dir', store], undefined, /^framelog: --through 1: frame 1 is already closed/],
      [['conflicts', '--kind', 'oops', '--dir', store], undefined, /^framelog: --kind: must be field, item or delta/],
      [['state', '--dir', join(root, 'nowhere')], undefined, /no framelog store here \(run: framelog init --dir/],
      [['init', '--dir', store], undefined, /already a framelog store/],
    ];
    for (const [args, input, msg] of cases) {
      const r = run(args, input);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err.trim(), args.join(' ')).toMatch(msg);
    }
    expect(treeHash(store)).toBe(before);
  });

  it('puts and merges through the fs transport like any other: one put path (a batch file for several deltas) and one merger loop', () => {
    const dir = join(root, 'through-fs');
    expect(run(['init', '--dir', dir]).code).toBe(0);
    const d = (w: string, n: number) => JSON.stringify({ frame: 1, writer: w, utc: '2026-04-19T14:30:01Z', counters: { n } });
    const put = run(['put', '--transport', 'fs', '--url', dir, '-', '--json'], [d('a', 1), d('b', 2), d('c', 3)].join('\n'));
    expect(put.code).toBe(0);
    const rows = put.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.file.startsWith('inbox/batch.'), r.line, r.written])).toEqual([[true, 1, true], [true, 2, true], [true, 3, true]]);
    expect(readdirSync(join(dir, 'inbox')).filter((n) => !n.startsWith('.'))).toHaveLength(1);
    const merged = run(['merge', '--transport', 'fs', '--url', dir, '--json']);
    expect(merged.code).toBe(0);
    expect(JSON.parse(merged.out).applied).toHaveLength(3);
    expect(JSON.parse(run(['state', '--dir', dir]).out).counters).toEqual({ n: 6 });
    // A bad delta among them: nothing is sent, exit 1, the first bad one named.
    const bad = run(['put', '--transport', 'fs', '--url', dir, '-'], [d('a', 1), '{"frame":2}'].join('\n'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/stdin:2: /);
    expect(readdirSync(join(dir, 'inbox')).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('verify exits 1 and names the file when the store was tampered with', () => {
    const d = join(root, 'tampered');
    run(['init', '--dir', d]);
    run(['put', '-', '--dir', d], '{"frame":1,"writer":"w","utc":"2026-04-19T14:30:01Z","counters":{"n":1}}\n');
    run(['merge', '--dir', d]);
    const f = join(d, 'archive', 'merge-000000001.ndjson');
    writeFileSync(f, readFileSync(f, 'utf8').replace('"n":1', '"n":2'));
    const r = run(['verify', '--dir', d]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('archive/merge-000000001');
  });

  it('has help with examples for every command', () => {
    for (const c of ['init', 'put', 'merge', 'state', 'diff', 'log', 'conflicts', 'events', 'verify', 'demo']) {
      const r = run([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.out, c).toContain('Usage: framelog ' + c);
    }
    expect(run(['--help']).out).toContain('Examples:');
  });

  it('runs the demo: 8 writer processes, every delta accounted for, verify green', () => {
    const d = join(root, 'demo');
    const r = spawnSync(process.execPath, [CLI, 'demo', '--dir', d, '--frames', '20', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ writers: 8, frames: 20, verify: true, quarantined: 1 });
    expect(summary.seconds).toBeLessThan(30);
    // Every unit of work counted exactly once: 8 × 20 units, less worker-7's crash (frame 11).
    const state = JSON.parse(run(['state', '--dir', d]).out);
    expect(state.counters.tasks_done).toBe(8 * 20 - 1);
    expect(state.items.results).toHaveLength(8 * 20 - 1);
    expect(summary.fallback).toBe(1);
    expect(summary.duplicates).toBeGreaterThan(0);
  });
});
