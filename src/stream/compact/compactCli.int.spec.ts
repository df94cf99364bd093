import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { givenEmptyStore, removeStores } from '../testing/streamFixtures.js';

afterAll(removeStores);
const repo = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repo, 'dist/cli/main.js');

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!fs.existsSync(path.join(repo, 'dist/cli/compactCommands.js')))('framelog compact, read, query and verify on a compacted, chained store', () => {
  it('reads and queries see through segments, cursors stay valid, verify covers the chain', () => {
    const dir = givenEmptyStore('compact-cli');
    expect(cli(['init', '--dir', dir]).code).toBe(0);
    const planFile = path.join(dir, 'framelog.json');
    const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    fs.writeFileSync(planFile, JSON.stringify({ ...plan, streams: { audit: { chain: true, version: 1, schema: { type: 'object', required: ['dispatch_id'] } } } }));
    const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ type: 'gate', dispatch_id: `d${from + i}`, result: (from + i) % 3 === 0 ? 'fail' : 'pass' })).join('\n');
    expect(cli(['append', 'audit', '--dir', dir], lines(0, 30)).code).toBe(0);
    const before = cli(['read', 'audit', '--dir', dir, '--cursors']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const c = cli(['compact', 'audit', '--dir', dir]);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout).segment.count).toBe(30);
    expect(cli(['append', 'audit', '--dir', dir], lines(30, 10)).code).toBe(0);
    const refused = cli(['append', 'audit', '--dir', dir, '{"type":"gate"}']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/field "dispatch_id" is required/);
    const after = cli(['read', 'audit', '--dir', dir, '--cursors']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(after).toHaveLength(40);
    expect(after.slice(0, 30)).toEqual(before);
    const from = cli(['read', 'audit', '--dir', dir, '--since', String(before[20].cursor)]).stdout.trim().split('\n');
    expect(from).toHaveLength(20);
    const q = cli(['query', 'audit', '--dir', dir, '--where', 'result=fail', '--select', 'dispatch_id']).stdout.trim().split('\n');
    expect(q).toHaveLength(14);
    const ok = cli(['verify', '--dir', dir]);
    expect(ok.stdout).toMatch(/1 streams \(1 segments\) verified/);
    expect(ok.code).toBe(0);
    // Edit one archived record: verify fails, naming the segment.
    const seg = path.join(dir, 'streams/archive/audit', JSON.parse(c.stdout).segment.file);
    const text = zlib.gunzipSync(fs.readFileSync(seg)).toString('utf8').replace('"d7"', '"d8"');
    fs.writeFileSync(seg, zlib.gzipSync(text));
    const bad = cli(['verify', '--dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/content differs from the SHA-256/);
    expect(bad.stderr).toMatch(/hash chain breaks/);
  });
});
