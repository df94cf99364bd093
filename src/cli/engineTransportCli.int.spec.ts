import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readLog } from '../store/journalQueries.js';
import { openStoreContext } from '../store/storeContext.js';
import { SERVICE_URLS, serviceForTests } from '../transport/testing/services.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-engine-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cli = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FRAMELOG_TRANSPORT: '', FRAMELOG_STORE: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const ok = await serviceForTests('redis');

describe.skipIf(!ok)('framelog with an engine transport (redis)', () => {
  it('transport init, put from a writer with no store, merge on the merger\'s store, transport drop; bad arguments named in one line', () => {
    const store = `cli_${process.pid}_${Date.now().toString(36)}`;
    const base = ['--transport', 'redis', '--url', SERVICE_URLS.redis, '--store', store];
    const dir = join(root, 'merger');
    const init = cli(['transport', 'init', ...base, '--dir', dir, '--writers', 'a,b']);
    expect(init.code, init.err).toBe(0);
    try {
      writeFileSync(join(root, 'a.json'), JSON.stringify({ frame: 1, writer: 'a', utc: '2026-01-01T00:00:00Z', counters: { n: 1 } }));
      const put = cli(['put', ...base, join(root, 'a.json'), '-', '--json'], JSON.stringify({ frame: 1, writer: 'b', utc: '2026-01-01T00:00:01Z', counters: { n: 2 } }) + '\n');
      expect(put.code, put.err).toBe(0);
      expect(put.out.trim().split('\n').map((l) => JSON.parse(l).transport)).toEqual(['redis', 'redis']);
      const bad = cli(['put', ...base, '-'], '{"frame":2,"writer":"a","utc":"2026-01-01T00:00:00Z","counters":{"n":NaN}}\n');
      expect(bad.code).toBe(1);
      expect(bad.err.trim().split('\n')).toHaveLength(1);
      expect(bad.err).toMatch(/stdin:1/);
      const merge = cli(['merge', ...base, '--dir', dir, '--json']);
      expect(merge.code, merge.err).toBe(0);
      expect(JSON.parse(merge.out.trim()).applied).toHaveLength(2);
      expect(merge.err).toMatch(/nothing reaches the disk|appendfsync/); // this machine's Redis keeps puts only in memory: said once
      expect(readLog(openStoreContext(dir)).map((r) => r.frame)).toEqual([1]);
    } finally {
      const drop = cli(['transport', 'drop', ...base]);
      expect(drop.code, drop.err).toBe(0);
    }
    const noStore = cli(['put', '--transport', 'redis', join(root, 'a.json')]);
    expect(noStore.code).toBe(1);
    expect(noStore.err).toBe('framelog: --transport redis needs --store NAME (the store\'s name in redis; or set FRAMELOG_STORE)\n');
    const badName = cli(['put', '--transport', 'redis', '--store', 'no/slashes', join(root, 'a.json')]);
    expect(badName.code).toBe(1);
    expect(badName.err).toMatch(/^framelog: --store no\/slashes: a store name is/);
    const down = cli(['put', '--transport', 'redis', '--url', 'redis://127.0.0.1:1', '--store', 'x', join(root, 'a.json')]);
    expect(down.code).toBe(1);
    expect(down.err.trim().split('\n')).toHaveLength(1);
    expect(down.err).toMatch(/127\.0\.0\.1:1/);
  }, 60_000);
});
