// Issue #20 point 3 (fsyncgate): a merge whose commit sync fails is not adopted. Whether the
// commit is the segment (one-sync fast path) or the merge record (the intent path), a failed
// sync is taken back before the error goes up: state does not show the merge, the next merge
// makes it again, and verify is green. The failures are injected with strace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const hasStrace = spawnSync('strace', ['-V']).status === 0;
const root = mkdtempSync(join(tmpdir(), 'framelog-commitfail-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
/** `framelog merge` with its `when`-th fdatasync (on `path`, when given) failing with EIO. */
const mergeFailingSync = (store: string, path?: string, when = 1) => {
  const only = path ? ['-P', join(basename(store), path)] : [];
  const r = spawnSync('strace', ['-f', '-o', '/dev/null', ...only, '-e', 'trace=fdatasync', '-e', `inject=fdatasync:error=EIO:when=${when}`, process.execPath, CLI, 'merge', '--dir', basename(store)], { cwd: dirname(store), encoding: 'utf8' });
  return { code: r.status, err: r.stderr.split('\n').filter((l) => l.startsWith('framelog:')).join('\n') };
};
const delta = (frame: number) => JSON.stringify({ frame, writer: 'w', utc: `2026-01-01T00:00:0${frame}Z`, counters: { n: 1 } }) + '\n';
const state = (n: number) => `{"counters":{${n ? `"n":${n}` : ''}},"entities":{},"items":{}}\n`;

describe.runIf(hasStrace)('a merge whose commit sync fails', () => {
  it('fast path: the segment is removed again; nothing is adopted; the next merge commits it', () => {
    const store = join(root, 'fast');
    expect(cli(['init', '--dir', store]).code).toBe(0);
    expect(cli(['put', '-', '--dir', store], delta(1)).code).toBe(0);
    // The first sync of a fresh store's merge is its lag marker's; the second, the segment's: the commit.
    const marker = mergeFailingSync(store, undefined, 1);
    expect(marker.code).toBe(2);
    expect(marker.err).toMatch(/^framelog: EIO: i\/o error, fdatasync \(writing .*journal\/merge-intent\.json: nothing was committed\)$/);
    expect(cli(['state', '--dir', store]).out).toBe(state(0));
    const r = mergeFailingSync(store, undefined, 2);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^framelog: EIO: i\/o error, fdatasync \(committing .*archive\/merge-000000001\.ndjson: the merge was not committed\)$/);
    expect(readdirSync(join(store, 'archive'))).toEqual([]);
    expect(cli(['state', '--dir', store]).out).toBe(state(0));
    expect(cli(['merge', '--dir', store]).out).toMatch(/^merged frame 1: 1 applied/);
    expect(cli(['state', '--dir', store]).out).toBe(state(1));
    expect(cli(['verify', '--dir', store]).code).toBe(0);
  });

  it('intent path (a bad file to quarantine): the merge record is cut back; recovery undoes the merge; the next merge makes it', () => {
    const store = join(root, 'slow');
    expect(cli(['init', '--dir', store]).code).toBe(0);
    expect(cli(['put', '-', '--dir', store], delta(1)).code).toBe(0);
    expect(cli(['merge', '--dir', store]).code).toBe(0);
    expect(cli(['merge', '--dir', store]).code).toBe(0); // journals settled: merges.ndjson is on disk
    expect(cli(['put', '-', '--dir', store], delta(2)).code).toBe(0);
    writeFileSync(join(store, 'inbox', 'bad.json'), 'garbage');
    const r = mergeFailingSync(store, 'journal/merges.ndjson');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^framelog: EIO: i\/o error, fdatasync \(appending to .*journal\/merges\.ndjson: nothing of it kept\)$/);
    expect(cli(['log', '--dir', store]).out.trim().split('\n')).toHaveLength(1);
    expect(cli(['state', '--dir', store]).out).toBe(state(1));
    expect(cli(['merge', '--dir', store]).out).toMatch(/^merged frame 2: 1 applied, 1 quarantined/);
    expect(cli(['state', '--dir', store]).out).toBe(state(2));
    expect(cli(['verify', '--dir', store]).code).toBe(0);
  });
});
