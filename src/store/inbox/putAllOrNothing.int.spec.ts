// Issue #20 point 5: put is all or nothing under I/O errors too. Every fsync of a put of two
// delta files is failed in turn (strace): each failure exits 2 with the inbox as it was; and a
// put that finds its deltas already pending still syncs the inbox before it acknowledges them.
import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const hasStrace = spawnSync('strace', ['-V']).status === 0;
const root = mkdtempSync(join(tmpdir(), 'framelog-putfail-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const pending = (store: string): string[] => readdirSync(join(store, 'inbox')).sort();

describe.runIf(hasStrace)('put under I/O errors', () => {
  it('each failed fsync of a two-file put leaves the inbox untouched; the run without faults puts both', () => {
    const store = join(root, 'store');
    expect(spawnSync(process.execPath, [CLI, 'init', '--dir', store]).status).toBe(0);
    const files = ['a', 'b'].map((w) => {
      const f = join(root, `${w}.json`);
      writeFileSync(f, JSON.stringify({ frame: 1, writer: w, utc: '2026-01-01T00:00:01Z' }) + '\n'); // a line break: each its own file
      return f;
    });
    let faults = 0;
    for (let when = 1; ; when++) {
      const trace = join(root, `put-${when}.strace`);
      const r = spawnSync('strace', ['-f', '-y', '-o', trace, '-e', 'trace=fsync', '-e', `inject=fsync:error=EIO:when=${when}`, process.execPath, CLI, 'put', ...files, '--dir', store], { encoding: 'utf8' });
      if (!readFileSync(trace, 'utf8').includes('INJECTED')) {
        expect(r.status).toBe(0); // every fsync of the put was failed once: this run had none to fail
        break;
      }
      faults++;
      expect(r.status, `fsync #${when}`).toBe(2);
      expect(r.stderr).toMatch(/^framelog: EIO: i\/o error, fsync .*nothing was put\)\n$/);
      expect(pending(store), `fsync #${when}`).toEqual([]);
    }
    expect(faults).toBeGreaterThanOrEqual(3); // two files and the folder
    expect(pending(store)).toHaveLength(2);
    // The same put again: nothing to write, but the folder is synced before it says so.
    const trace = join(root, 'again.strace');
    const again = spawnSync('strace', ['-f', '-y', '-o', trace, '-e', 'trace=fsync', process.execPath, CLI, 'put', ...files, '--dir', store], { encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(readFileSync(trace, 'utf8')).toMatch(new RegExp(`fsync\\(\\d+<${join(store, 'inbox').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}>\\) = 0`));
  });
});
