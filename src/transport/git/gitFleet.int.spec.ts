import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readLog } from '../../store/history/journalQueries.js';
import { openStoreContext } from '../../store/storeContext.js';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-git-fleet-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 << 20 });

describe('framelog demo git: 8 writer processes in their own clones, one bare repository, a merger running throughout', () => {
  it('50 frames: no delta lost, one merge commit per merged frame, no conflict marker, no rewritten history', async () => {
    const dir = join(root, 'demo');
    // Run asynchronously: the demo takes ~20 s, and a test worker must keep answering its runner meanwhile.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [CLI, 'demo', 'git', '--dir', dir, '--writers', '8', '--frames', '50', '--timeout', '3000', '--json'], { env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '', stderr = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      c.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    console.log(JSON.stringify(s));
    expect(s.sent).toBeGreaterThanOrEqual(400);
    expect(s.lost).toBe(0);
    expect(s.verify).toBe(true);
    expect(s.quarantined).toBe(1);
    expect(s.fallback).toBeGreaterThan(0);
    // worker-5's redeliveries: archived as duplicates, or dropped by git when the same file is still pending.
    expect(s.sent).toBe(8 * 50 + 1 + 5);
    const url = join(dir, 'shared.git');
    const records = readLog(openStoreContext(join(dir, 'merger')));
    expect(records.at(-1)!.frame).toBeGreaterThanOrEqual(50);
    // One "merge frame N" commit per merge record, in order, each frame once.
    const subjects = git(url, 'log', '--reverse', '--format=%s', 'main').trim().split('\n');
    expect(subjects.filter((x) => x.startsWith('merge frame ')).map((x) => Number(x.slice(12)))).toEqual(records.map((rec) => rec.frame));
    expect(subjects.every((x) => x === 'init store' || x.startsWith('deltas: ') || x.startsWith('merge frame '))).toBe(true);
    // Linear history, and every update of main was a fast-forward of the one before (the reflog keeps them all).
    expect(git(url, 'rev-list', '--merges', 'main').trim()).toBe('');
    const tips = git(url, 'reflog', 'show', '--format=%H', 'main').trim().split('\n').reverse();
    expect(tips.length).toBeGreaterThan(8); // every accepted push of the writers and the merger
    for (let i = 1; i < tips.length; i++) {
      expect(spawnSync('git', ['merge-base', '--is-ancestor', tips[i - 1], tips[i]], { cwd: url }).status).toBe(0);
    }
    // No conflict marker anywhere in any commit.
    const markers = spawnSync('git', ['log', '-p', '--format=', '-G', '^(<<<<<<<|>>>>>>>) ', 'main'], { cwd: url, encoding: 'utf8', maxBuffer: 256 << 20 });
    expect(markers.stdout).toBe('');
  }, 300_000);
});
