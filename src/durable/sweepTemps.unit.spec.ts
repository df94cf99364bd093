import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileDurable, writeFileDurable } from './durableFs.js';
import { sweepTemps } from './sweepTemps.js';

const root = mkdtempSync(join(tmpdir(), 'framelog-temps-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A pid that ran and is gone: a child that exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout as unknown as number;

describe('temp files', () => {
  it('sweepTemps removes old temps of processes that are gone, and nothing else', () => {
    const dir = join(root, 'sweep');
    spawnSync('mkdir', ['-p', dir]);
    const dead = Number(deadPid());
    const old = (Date.now() - 120_000) / 1000;
    const names = {
      deadOld: `.frame-000001.w.0.abc.json.${dead}.0a1b2c3d.tmp`,
      deadNew: `.frame-000002.w.0.abc.json.${dead}.0a1b2c3e.tmp`,
      alive: `.x.json.${process.ppid}.0a1b2c3f.tmp`,
      delta: 'frame-000003.w.0.abc.json',
      other: '.notes.tmp',
    };
    for (const n of Object.values(names)) writeFileSync(join(dir, n), 'x');
    for (const n of [names.deadOld, names.alive, names.other]) utimesSync(join(dir, n), old, old);
    expect(sweepTemps([dir, join(root, 'missing')])).toEqual([join(dir, names.deadOld)]);
    expect(readdirSync(dir).sort()).toEqual([names.deadNew, names.alive, names.delta, names.other].sort());
  });

  it('a write that fails leaves no temp behind, and the error is the write\'s', () => {
    const dir = join(root, 'fail');
    spawnSync('mkdir', ['-p', dir]);
    // The target is a folder: the rename (writeFileDurable) or the link (createFileDurable) fails after the temp was written.
    spawnSync('mkdir', ['-p', join(dir, 'target'), join(dir, 'target2', 'x')]);
    expect(() => writeFileDurable(join(dir, 'target2'), 'data')).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(createFileDurable(join(dir, 'target'), Buffer.from('data'))).toBe(false); // EEXIST: nothing written
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'target2', 'x'))).toBe(true);
  });
});

describe('a merger opening a store', () => {
  it('removes the temps that dead writers left in inbox/ and snapshots/, and merges the rest', async () => {
    const { givenStore } = await import('../testing/given.js');
    const s = await givenStore();
    const dead = Number(deadPid());
    const old = (Date.now() - 120_000) / 1000;
    const temps = [join(s.dir, 'inbox', `.frame-000001.w.0.abc.json.${dead}.00aa11bb.tmp`), join(s.dir, 'snapshots', `.snap-000000001.json.${dead}.00aa11bc.tmp`)];
    for (const t of temps) {
      writeFileSync(t, '{"frame":1');
      utimesSync(t, old, old);
    }
    await s.put({ frame: 1, writer: 'w', utc: '2026-04-19T14:00:01Z' });
    expect(await s.merge()).toHaveLength(1);
    for (const t of temps) expect(existsSync(t)).toBe(false);
    s.dispose();
  });
});
