import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Answers that were wrong in silence (issue #18, points 1–5): each asserts what a user is told.
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-honest-'));
const store = join(root, 'store');
const run = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [CLI, ...args, '--dir', store], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const delta = (frame: number, extra: object) => JSON.stringify({ frame, writer: 'w', utc: `2026-01-01T00:00:0${frame}Z`, ...extra });

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli/main.js is missing: run npm run build first');
  expect(run(['init']).code).toBe(0);
  const lines = [
    delta(1, { set: { a: { x: { v: 1 } } }, items: { log: [{ id: 'i1' }] }, counters: { n: 1 } }),
    delta(2, { set: { a: { x: { v: 2 }, y: { v: 9 } } }, items: { log: [{ id: 'i2' }] }, counters: { n: 1 } }),
    delta(3, { set: { b: { z: { w: true } } }, items: { log: [{ id: 'i3' }] }, counters: { n: 1 } }),
  ];
  expect(run(['put', '-'], lines.join('\n') + '\n').code).toBe(0);
  expect(run(['merge']).code).toBe(0);
  expect(run(['append', 'audit', '-'], '{"type":"x","worker":"T2"}\n').code).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('answers that are not silently wrong', () => {
  it('diff from a later frame to an earlier one shows what the frames between added as removed', () => {
    const back = JSON.parse(run(['diff', '3', '1', '--json']).out);
    expect(back.fields).toEqual([{ type: 'a', id: 'x', field: 'v', old: 2, new: 1, writer: 'w', frame: 1, seq: 0, utc: '2026-01-01T00:00:01.000Z' }]);
    expect(back.fieldsRemoved).toEqual([
      { type: 'a', id: 'y', field: 'v', old: 9 },
      { type: 'b', id: 'z', field: 'w', old: true },
    ]);
    expect(back.itemsRemoved.map((i: { item: { id: string } }) => i.item.id)).toEqual(['i2', 'i3']);
    expect(back.counters).toEqual([{ name: 'n', old: 3, new: 1, delta: -2 }]);
    const forward = JSON.parse(run(['diff', '1', '3', '--json']).out);
    expect(forward.fieldsRemoved).toEqual([]);
    expect(forward.itemsRemoved).toEqual([]);
    expect(forward.fields.map((f: { id: string }) => f.id)).toEqual(['x', 'y', 'z']);
    const human = run(['diff', '3', '1']).out;
    expect(human).toMatch(/backward/);
    expect(human).toMatch(/unset a\/y\.v: 9 → ∅/);
    expect(human).toMatch(/no item log/);
  });

  it('state and diff past the last merge say so on stderr', () => {
    const past = run(['state', '--at', '600']);
    expect(past.code).toBe(0);
    expect(past.out).toBe(run(['state']).out);
    expect(past.err).toBe('framelog: frame 600 is past the last merge (frame 3); this is the state at frame 3\n');
    expect(run(['state', '--at', '3']).err).toBe('');
    expect(run(['diff', '1', '9']).err).toMatch(/frame 9 is past the last merge \(frame 3\)/);
  });

  it('compact of an unknown stream is an error that creates nothing', () => {
    const r = run(['compact', 'nosuch']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/no stream "nosuch"/);
    expect(r.out).toBe('');
    expect(existsSync(join(store, 'streams/archive/nosuch'))).toBe(false);
    expect(readdirSync(join(store, 'streams'))).not.toContain('nosuch.ndjson');
    expect(run(['compact', 'audit']).code).toBe(0);
  });

  it('a --where on a stream that is not joined is an error', () => {
    expect(run(['append', 'receipts', '-'], '{"type":"r","worker":"T2"}\n').code).toBe(0);
    const r = run(['query', 'audit', '--where', 'receipts.worker=T2']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/receipts is a stream that is not in this query \(add --join receipts:KEY/);
    expect(run(['query', 'audit', '--where', 'worker=T2']).out).toMatch(/"worker":"T2"/);
  });

  it('a merge record duplicated by hand: state refuses instead of answering from the wrong record; verify names it', () => {
    const copy = join(root, 'dup');
    cpSync(store, copy, { recursive: true });
    const journal = join(copy, 'journal/merges.ndjson');
    appendFileSync(journal, readFileSync(journal, 'utf8').split('\n')[1] + '\n'); // frame 2's record again, after frame 3's
    const state = spawnSync(process.execPath, [CLI, 'state', '--dir', copy], { encoding: 'utf8' });
    expect(state.status).toBe(1);
    expect(state.stdout).toBe('');
    expect(state.stderr).toMatch(/^framelog: journal\/merges\.ndjson: the record at byte \d+ closes frame 2, not after frame 3 .*framelog verify names it\n$/);
    const verify = spawnSync(process.execPath, [CLI, 'verify', '--dir', copy, '--json'], { encoding: 'utf8' });
    expect(verify.status).toBe(1);
    expect(JSON.parse(verify.stdout).faults).toContainEqual(expect.objectContaining({ file: 'journal/merges.ndjson', line: 4, frame: 2 }));
  });

  it('a frame past 2^53 − 2 is refused with the number as written and the rule', () => {
    for (const frame of ['9007199254740991', '9007199254740993']) {
      const r = run(['put', '-'], `{"frame":${frame},"writer":"w","utc":"2026-01-01T00:00:00Z"}\n`);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain(`must be an integer from 0 to 9007199254740990 (2^53 − 2, so the frame after it is still exact) (got ${frame})`);
    }
    expect(run(['put', '-'], `{"frame":9007199254740990,"writer":"w","utc":"2026-01-01T00:00:00Z"}\n`).code).toBe(0);
  });
});
