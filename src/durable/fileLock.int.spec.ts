// Issue #18 point 17: fs-ext is a native addon, optional: where it could not be built, the commands
// that take no lock work, and the first lock says why it cannot be taken (no crash at start).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-nofsext-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('without fs-ext', () => {
  it('reads work; the first lock fails with one line saying what is missing and how to get it', () => {
    const store = join(root, 'store');
    const ok = spawnSync(process.execPath, [CLI, 'init', '--dir', store], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    // A preload that makes fs-ext unloadable, as on a platform where it could not be built.
    const hide = join(root, 'no-fs-ext.cjs');
    writeFileSync(hide, `const M = require('node:module'); const load = M._load; M._load = function (req, ...rest) { if (req === 'fs-ext') throw new Error("Cannot find module 'fs-ext'"); return load.call(this, req, ...rest); };\n`);
    const cli = (args: string[], input?: string) => spawnSync(process.execPath, ['--require', hide, CLI, ...args, '--dir', store], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(cli(['state']).stdout).toBe('{"counters":{},"entities":{},"items":{}}\n');
    expect(cli(['put', '-'], '{"frame":1,"writer":"w","utc":"2026-01-01T00:00:01Z"}\n').status).toBe(0);
    for (const args of [['merge'], ['append', 'audit', '{"a":1}']]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^framelog: (append to streams\/audit\.ndjson failed: )?file locks need the fs-ext package \(flock\), which could not be loaded here \(Cannot find module 'fs-ext'\): reinstall framelog where a C\+\+ compiler and Python are available \(npm rebuild fs-ext\)\n$/);
    }
    expect(spawnSync(process.execPath, [CLI, 'merge', '--dir', store], { encoding: 'utf8' }).status).toBe(0); // with it: as ever
  });
});
