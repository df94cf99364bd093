import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readLog } from '../store/history/journalQueries.js';
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
    expect(noStore.err).toBe('framelog: --transport redis needs --store NAME (the store\'s name in redis; or set FRAMELOG_STORE, or transport.store in framelog.json)\n');
    const badName = cli(['put', '--transport', 'redis', '--store', 'no/slashes', join(root, 'a.json')]);
    expect(badName.code).toBe(1);
    expect(badName.err).toMatch(/^framelog: --store no\/slashes: a store name is/);
    const down = cli(['put', '--transport', 'redis', '--url', 'redis://127.0.0.1:1', '--store', 'x', join(root, 'a.json')]);
    expect(down.code).toBe(1);
    expect(down.err.trim().split('\n')).toHaveLength(1);
    expect(down.err).toMatch(/127\.0\.0\.1:1/);
    // A transport init the engine refuses leaves no store folder: the next try, right, just works.
    const later = join(root, 'later');
    const refused = cli(['transport', 'init', '--transport', 'redis', '--url', 'redis://127.0.0.1:1', '--store', 'x', '--dir', later]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/127\.0\.0\.1:1/);
    expect(readdirSync(root)).not.toContain('later');
    const again = `cli_${process.pid}_${Date.now().toString(36)}_again`;
    const right = cli(['transport', 'init', '--transport', 'redis', '--url', SERVICE_URLS.redis, '--store', again, '--dir', later]);
    expect(right.code, right.err).toBe(0);
    expect(cli(['transport', 'drop', '--transport', 'redis', '--url', SERVICE_URLS.redis, '--store', again]).code).toBe(0);
    const twice = cli(['transport', 'init', '--transport', 'redis', '--url', SERVICE_URLS.redis, '--store', again, '--dir', later]);
    expect(twice.code).toBe(1);
    expect(twice.err).toMatch(/already a framelog store/);
  }, 60_000);

  it('put says when the engine can lose what it acknowledges, and --require-durable refuses to put there (#19 point 5)', async () => {
    const { readRedisDurability } = await import('../transport/redis/redisDurability.js');
    const { Redis } = await import('ioredis');
    const admin = new Redis(SERVICE_URLS.redis, { protocol: 2 });
    const durability = await readRedisDurability(admin);
    const store = `dur_${process.pid}_${Date.now().toString(36)}`;
    const base = ['--transport', 'redis', '--url', SERVICE_URLS.redis, '--store', store];
    try {
      const init = cli(['transport', 'init', ...base, '--dir', join(root, 'dur-merger')]);
      expect(init.code).toBe(0);
      expect(init.err).toBe(durability.onDiskWhenAcknowledged ? '' : `framelog: redis: ${durability.summary}\n`);
      const put = cli(['put', ...base, '-'], JSON.stringify({ frame: 1, writer: 'a', utc: '2026-01-01T00:00:01Z' }) + '\n');
      expect(put.code).toBe(0);
      const strict = cli(['put', ...base, '-', '--require-durable'], JSON.stringify({ frame: 2, writer: 'a', utc: '2026-01-01T00:00:02Z' }) + '\n');
      if (durability.onDiskWhenAcknowledged) {
        expect(put.err).toBe('');
        expect(strict.code).toBe(0);
      } else {
        expect(put.err).toBe(`framelog: redis: ${durability.summary}\n`);
        expect(strict.code).toBe(1);
        expect(strict.err).toBe(`framelog: redis: ${durability.summary}; nothing was put (--require-durable)\n`);
        expect(await admin.xlen(`framelog:{${store}}:deltas`)).toBe(1);
        // Recorded in the store (transport init --require-durable): refused there, and no store is left.
        const recorded = cli(['transport', 'init', ...base, '--require-durable', '--dir', join(root, 'dur-strict')]);
        expect(recorded.code).toBe(1);
        expect(recorded.err).toMatch(/refused: this store requires durable acknowledgements/);
        expect(readdirSync(root)).not.toContain('dur-strict');
        // A plan that says so: every put through it refuses, and so does the library.
        const planFile = join(root, 'dur-merger', 'framelog.json');
        const plan = JSON.parse(readFileSync(planFile, 'utf8'));
        writeFileSync(planFile, JSON.stringify({ ...plan, transport: { ...plan.transport, requireDurable: true } }));
        const byPlan = cli(['put', '--dir', join(root, 'dur-merger'), '-'], JSON.stringify({ frame: 3, writer: 'a', utc: '2026-01-01T00:00:03Z' }) + '\n');
        expect(byPlan.code).toBe(1);
        expect(byPlan.err).toBe(`framelog: redis: ${durability.summary}; nothing was put (transport.requireDurable in framelog.json)\n`);
        const { openTransport, resolveTransportConfig } = await import('../transport/openTransport.js');
        const config = resolveTransportConfig({}, {}, openStoreContext(join(root, 'dur-merger')).plan.transport);
        expect(config.requireDurable).toBe(true);
        await expect(openTransport(config, join(root, 'dur-merger'), { role: 'merger' })).rejects.toMatchObject({ code: 'not-durable' });
        expect(await admin.xlen(`framelog:{${store}}:deltas`)).toBe(1);
      }
    } finally {
      cli(['transport', 'drop', ...base]);
      await admin.quit();
    }
  });

  it('transport init writes the transport into framelog.json: put and merge on that store need no transport flags; flags still win; a password in the file is refused', () => {
    const store = `cfg_${process.pid}_${Date.now().toString(36)}`;
    const dir = join(root, 'configured');
    const init = cli(['transport', 'init', '--transport', 'redis', '--url', SERVICE_URLS.redis, '--store', store, '--dir', dir, '--writers', 'a']);
    expect(init.code, init.err).toBe(0);
    try {
      expect(JSON.parse(readFileSync(join(dir, 'framelog.json'), 'utf8')).transport).toEqual({ kind: 'redis', url: SERVICE_URLS.redis, store });
      writeFileSync(join(root, 'c.json'), JSON.stringify({ frame: 1, writer: 'a', utc: '2026-01-01T00:00:00Z', counters: { n: 5 } }));
      const put = cli(['put', '--dir', dir, join(root, 'c.json'), '--json']);
      expect(put.code, put.err).toBe(0);
      expect(JSON.parse(put.out).transport).toBe('redis');
      expect(readdirSync(join(dir, 'inbox'))).toEqual([]); // it went through redis, not into the folder
      // A flag beats the file: --transport fs puts into the folder's inbox.
      const local = cli(['put', '--dir', dir, '--transport', 'fs', join(root, 'c.json'), '--json']);
      expect(local.code, local.err).toBe(0);
      expect(readdirSync(join(dir, 'inbox'))).toHaveLength(1);
      rmSync(join(dir, 'inbox', readdirSync(join(dir, 'inbox'))[0]));
      const merge = cli(['merge', '--dir', dir, '--json']);
      expect(merge.code, merge.err).toBe(0);
      expect(JSON.parse(merge.out.trim()).applied).toHaveLength(1);
      expect(openStoreContext(dir).plan.transport?.store).toBe(store);
    } finally {
      expect(cli(['transport', 'drop', '--dir', dir]).code).toBe(0);
    }
    mkdirSync(join(root, 'secret'));
    // Written by hand, a password in framelog.json is refused, naming the field.
    writeFileSync(join(root, 'secret', 'framelog.json'), JSON.stringify({ transport: { kind: 'redis', url: 'redis://u:pw@127.0.0.1:6379', store: 'x' } }));
    const refused = cli(['merge', '--dir', join(root, 'secret')]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^framelog: .*framelog.json: transport.url: holds a password/);
  }, 60_000);
});

describe.skipIf(!ok)('framelog resolve through an engine transport (redis)', () => {
  it('reads the conflicts from the merger\'s store and sends the resolution delta through the engine; the next merge closes the conflict', () => {
    const store = `resolve_${process.pid}_${Date.now().toString(36)}`;
    const base = ['--transport', 'redis', '--url', SERVICE_URLS.redis, '--store', store];
    const dir = join(root, 'resolve-merger');
    expect(cli(['transport', 'init', ...base, '--dir', dir]).code).toBe(0);
    try {
      const lines = [
        { frame: 1, writer: 'a', utc: '2026-01-01T00:00:00Z', set: { t: { x: { owner: 'a' } } } },
        { frame: 1, writer: 'b', utc: '2026-01-01T00:00:01Z', set: { t: { x: { owner: 'b' } } } },
      ].map((d) => JSON.stringify(d)).join('\n') + '\n';
      expect(cli(['put', ...base, '-'], lines).code).toBe(0);
      expect(cli(['merge', ...base, '--dir', dir]).code).toBe(0);
      const open = cli(['conflicts', '--open', '--dir', dir]).out.trim().split('\n').map((l) => JSON.parse(l));
      expect(open.map((c) => c.conflict)).toEqual(['m1.0']);
      const r = cli(['resolve', 'm1.0', '--winner', 'a', '--as', 'human.ana', ...base, '--dir', dir]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^resolved 1 conflict \(m1\.0\) as human\.ana at frame 2: put 1 delta through redis; the next merge applies it\n$/);
      expect(readdirSync(join(dir, 'inbox'))).toEqual([]); // it went through the engine, not into the merger's inbox
      expect(cli(['merge', ...base, '--dir', dir]).code).toBe(0);
      expect(cli(['conflicts', '--open', '--dir', dir]).out).toBe('');
      expect(JSON.parse(cli(['state', '--dir', dir]).out).entities.t.x.owner).toBe('a');
    } finally {
      cli(['transport', 'drop', ...base]);
    }
  });
});
