// Issue #20 point 4 (fsyncgate): an append whose fdatasync fails is refused and taken back, so a
// reader never sees it and a retry does not duplicate it. The failure is injected with strace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const hasStrace = spawnSync('strace', ['-V']).status === 0;
const root = mkdtempSync(join(tmpdir(), 'framelog-syncfail-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = (args: string[], strace = false) => {
  const cmd = strace ? 'strace' : process.execPath;
  const argv = strace ? ['-f', '-o', '/dev/null', '-e', 'trace=fdatasync', '-e', 'inject=fdatasync:error=EIO:when=1', process.execPath, CLI, ...args] : [CLI, ...args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const ids = (dir: string): number[] => cli(['read', 's', '--dir', dir]).out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: number }).id);

describe.runIf(hasStrace)('an append whose sync fails', () => {
  for (const durability of ['fsync', 'batch']) {
    it(`(${durability}) is refused, not readable, and a retry appends it once`, () => {
      const dir = join(root, durability);
      expect(cli(['init', '--dir', dir]).code).toBe(0);
      expect(cli(['append', 's', '{"id":1}', '--dir', dir, '--durability', durability]).code).toBe(0);
      const failed = cli(['append', 's', '{"id":2}', '--dir', dir, '--durability', durability], true);
      expect(failed.code).toBe(1);
      // (strace counts per thread: in batch mode the sync of the cut, on another thread, fails too.)
      expect(failed.err).toMatch(/^framelog: append to streams\/s\.ndjson failed: EIO: i\/o error, fdatasync; nothing was appended( \(the cut back was not synced either: EIO[^)]*\))?\n$/);
      expect(ids(dir)).toEqual([1]);
      expect(cli(['append', 's', '{"id":2}', '--dir', dir, '--durability', durability]).code).toBe(0);
      expect(ids(dir)).toEqual([1, 2]);
      expect(cli(['verify', '--dir', dir]).code).toBe(0);
    });
  }
});
