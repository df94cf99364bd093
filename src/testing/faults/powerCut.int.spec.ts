// Power cuts at every mutating call of a merge (#20): the store lives on ext4 in a loop-mounted
// image (journal commits only when forced: commit=600); the merge is stopped (SIGSTOP, by the
// fault shim) just before its Nth store call, and the image is copied as it is at that instant —
// what a power cut would leave on the disk. The copy is mounted (the journal replays), the merge
// run again: verify green, and the store equal to a clean run's: nothing acknowledged lost,
// nothing applied twice, no temp file left that the next start would not sweep.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepTemps } from '../../durable/sweepTemps.js';
import { cli, faultShim, runCli, startStoppedAt, storeOutcome, tempsUnder, writeMergeBacklog } from './faultInjection.js';

const work = mkdtempSync(join(tmpdir(), 'framelog-powercut-'));
const mounts: string[] = [];
const mount = (image: string, at: string, opts = 'loop'): void => {
  mkdirSync(at, { recursive: true });
  execFileSync('mount', ['-o', opts, image, at], { stdio: 'pipe' });
  mounts.push(at);
};
const umount = (at: string): void => {
  execFileSync('umount', [at], { stdio: 'pipe' });
  mounts.splice(mounts.indexOf(at), 1);
};
/** Loop-mounting needs root and a kernel that allows it: probed once. */
function canLoopMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!faultShim()) return 'no C compiler for the fault shim (apt-get install -y gcc)';
  try {
    const img = join(work, 'probe.img');
    execFileSync('truncate', ['-s', '8M', img]);
    execFileSync('mkfs.ext4', ['-q', '-F', img], { stdio: 'pipe' });
    mount(img, join(work, 'probe'));
    umount(join(work, 'probe'));
    return undefined;
  } catch (e) {
    return `loop mount refused: ${(e as Error).message.split('\n')[0]}`;
  }
}
const why = canLoopMount();
if (why) process.stderr.write(`power-cut sweep skipped: ${why}\n`);
afterAll(() => {
  for (const m of [...mounts].reverse()) spawnSync('umount', [m]);
  rmSync(work, { recursive: true, force: true });
});
const STRIDE = process.env.FRAMELOG_FAULTS === 'full' ? 1 : 4;


describe.skipIf(why !== undefined)('power cuts at every mutating call of a merge (ext4 in a loop image)', () => {
  it('recovers every cut: verify green, the clean run\'s store, no temp left', async () => {
    // The base image: a store with history and a pending backlog (conflicts, an event, items, a late delta, a bad file, a duplicate).
    const base = join(work, 'base.img');
    execFileSync('truncate', ['-s', '64M', base]);
    execFileSync('mkfs.ext4', ['-q', '-F', base], { stdio: 'pipe' });
    const m = join(work, 'm');
    mount(base, m);
    const store = join(m, 'store');
    writeMergeBacklog(store);
    execFileSync('sync');
    umount(m);

    // A clean merge: the calls to cut at, and the store to match.
    const cleanImg = join(work, 'clean.img');
    copyFileSync(base, cleanImg);
    mount(cleanImg, m);
    const clean = runCli(['merge', '--dir', store], { root: store });
    expect(clean.code, clean.stderr).toBe(0);
    const want = storeOutcome(store);
    umount(m);
    const points = clean.calls.filter((c) => c.call !== 'open').map((c) => c.n).filter((_, i, all) => i % STRIDE === 0 || i === all.length - 1);
    expect(points.length).toBeGreaterThan(5);

    const problems: string[] = [];
    const img = join(work, 'run.img');
    const cut = join(work, 'cut.img');
    const c = join(work, 'c');
    for (const at of points) {
      const what = `cut before call ${at} (${clean.calls[at - 1].call} ${clean.calls[at - 1].path.slice(store.length + 1)})`;
      copyFileSync(base, img);
      mount(img, m, 'loop,commit=600');
      const run = await startStoppedAt(['merge', '--dir', store], { root: store, at });
      if (!run.stopped) problems.push(`${what}: the merge ended before reaching it`);
      copyFileSync(img, cut); // the disk as the cut leaves it
      await run.kill();
      umount(m);
      mount(cut, c);
      const dir = join(c, 'store');
      try {
        const again = cli(['merge', '--dir', dir]);
        if (again.code !== 0) problems.push(`${what}: the merge after the cut exited ${again.code}: ${again.err.trim()}`);
        const verify = cli(['verify', '--dir', dir]);
        if (verify.code !== 0) problems.push(`${what}: verify exited ${verify.code}: ${(verify.out + verify.err).slice(0, 300)}`);
        if (storeOutcome(dir) !== want) problems.push(`${what}: the store differs from a clean run's`);
        sweepTemps([join(dir, 'inbox'), join(dir, 'quarantine'), join(dir, 'snapshots'), dir], { now: Date.now() + 120_000 });
        const temps = tempsUnder(dir);
        if (temps.length > 0) problems.push(`${what}: temp files left: ${temps.join(', ')}`);
      } finally {
        umount(c);
      }
    }
    process.stdout.write(`power-cut sweep: ${clean.calls.length} store calls in a clean merge, cut before ${points.length} mutating ones; ${problems.length} problems\n`);
    expect(problems).toEqual([]);
  }, 900_000);
});
