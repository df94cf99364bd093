// The fault sweep (#20): every I/O call that `put`, `merge`, `append` and `compact` make on store
// paths is failed once, and failed persistently from that call on, by an LD_PRELOAD shim
// (faultShim.c: EMFILE on opens, ENOSPC on writes, EIO on syncs, renames, links, unlinks,
// truncates and mkdirs). After each faulted run: a failed command printed one `framelog:` line; what
// it acknowledged is there, what it refused is not (all or nothing); a plain re-run recovers; the
// result equals a clean run's (nothing lost, nothing applied twice); `verify` is green; no temp
// file is left that the next start would not sweep. `npm run test:faults` fails every call; the
// suite (CI) fails every fifth call of each kind, the first and the last (FRAMELOG_FAULTS=full: all).
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepTemps } from '../../durable/sweepTemps.js';
import { badErrorOutput, cli, faultShim, runCli, storeOutcome, sweepDelta, tempsUnder, writeMergeBacklog, type FaultRun } from './faultInjection.js';

const shim = faultShim();
if (!shim && process.env.CI === 'true') throw new Error('the fault sweep needs gcc (apt-get install -y gcc)');
if (!shim) process.stderr.write('fault sweep skipped: no C compiler to build its LD_PRELOAD shim (apt-get install -y gcc)\n');
/** Every call (`npm run test:faults`), or every fifth, the first and the last (the suite, CI). */
const STRIDE = process.env.FRAMELOG_FAULTS === 'full' ? 1 : 5;
const root = mkdtempSync(join(tmpdir(), 'framelog-faults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));



/** Deltas waiting in the inbox: a line of a batch file each, or a file. */
const pendingDeltas = (dir: string): number =>
  readdirSync(join(dir, 'inbox')).filter((f) => !f.startsWith('.') && !f.endsWith('.why.json')).reduce((n, f) => n + (f.endsWith('.ndjson') ? readFileSync(join(dir, 'inbox', f), 'utf8').split('\n').filter(Boolean).length : 1), 0);

/** Stream ids in order, read through segments. */
const ids = (dir: string): number[] => cli(['read', 's', '--dir', dir]).out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: number }).id);

/** What a sweep point found wrong, or undefined. */
type Check = (dir: string, faulted: FaultRun) => string | undefined;

interface Scenario {
  name: string;
  /** Builds the store every point starts from (run once, copied per point). */
  template(dir: string): void;
  args(dir: string): string[];
  input?: string;
  /** Right after the faulted run, before recovery. */
  after: Check;
  /** Recovery without faults. */
  recover(dir: string, faulted: FaultRun): void;
  /** After recovery. */
  check: Check;
}

const expectOk = (r: { code: number | null; err: string }, what: string) => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.err.trim()}`);
};

const scenarios: Scenario[] = [
  {
    name: 'put',
    template: (dir) => {
      expectOk(cli(['init', '--dir', dir]), 'init');
      writeFileSync(join(dir, '..', 'a.json'), sweepDelta(1, 'a', { counters: { n: 1 } }));
      writeFileSync(join(dir, '..', 'b.json'), sweepDelta(1, 'b', { counters: { n: 2 } }));
    },
    args: (dir) => ['put', join(dir, '..', 'a.json'), join(dir, '..', 'b.json'), '--dir', dir],
    after: (dir, r) => {
      const n = pendingDeltas(dir);
      if (r.code === 0 && n !== 2) return `put said ok with ${n} deltas pending`;
      // All or nothing, unless the disk refused the undo too, and the error says what may stay.
      if (r.code !== 0 && n !== 0 && !/may stay/.test(r.stderr)) return `a failed put left ${n} deltas in the inbox and did not say so`;
      return undefined;
    },
    recover: (dir) => {
      expectOk(cli(['put', join(dir, '..', 'a.json'), join(dir, '..', 'b.json'), '--dir', dir]), 'the put again');
      expectOk(cli(['merge', '--dir', dir]), 'merge');
    },
    check: (dir) => {
      const st = JSON.parse(cli(['state', '--dir', dir]).out) as { counters: { n?: number } };
      return st.counters.n === 3 ? undefined : `n = ${st.counters.n}, want 3`;
    },
  },
  {
    name: 'merge',
    template: writeMergeBacklog,
    args: (dir) => ['merge', '--dir', dir],
    after: () => undefined,
    recover: (dir) => expectOk(cli(['merge', '--dir', dir]), 'the merge again'),
    check: (dir) => (storeOutcome(dir) === cleanOutcome.get('merge') ? undefined : 'the store differs from a clean run\'s'),
  },
  {
    name: 'append',
    template: (dir) => {
      expectOk(cli(['init', '--dir', dir]), 'init');
      for (const id of [1, 2, 3]) expectOk(cli(['append', 's', JSON.stringify({ id }), '--dir', dir]), 'append');
    },
    args: (dir) => ['append', 's', '{"id":4}', '--dir', dir],
    after: (dir, r) => {
      const got = ids(dir).join(',');
      if (r.code === 0) return got === '1,2,3,4' ? undefined : `append said ok, the stream holds ${got}`;
      if (/check before appending them again/.test(r.stderr)) return got === '1,2,3,4' ? undefined : `the error says the record stays, the stream holds ${got}`;
      return got === '1,2,3' ? undefined : `a failed append left ${got}`;
    },
    recover: (dir, r) => {
      if (r.code !== 0 && !/check before appending them again/.test(r.stderr)) expectOk(cli(['append', 's', '{"id":4}', '--dir', dir]), 'the append again');
    },
    check: (dir) => (ids(dir).join(',') === '1,2,3,4' ? undefined : `the stream holds ${ids(dir).join(',')}`),
  },
  {
    name: 'compact',
    // (Not compacted before: a copied store's live file is a new inode its manifest would not know.)
    template: (dir) => {
      expectOk(cli(['init', '--dir', dir]), 'init');
      expectOk(cli(['append', 's', '-', '--dir', dir], Array.from({ length: 60 }, (_, i) => JSON.stringify({ id: i + 1 })).join('\n') + '\n'), 'append');
    },
    args: (dir) => ['compact', 's', '--dir', dir],
    after: (dir) => (ids(dir).join(',') === range(1, 61) ? undefined : `readers see ${ids(dir).length} records after the faulted compaction`),
    recover: (dir) => {
      expectOk(cli(['compact', 's', '--dir', dir]), 'the compaction again');
      expectOk(cli(['append', 's', '{"id":61}', '--dir', dir]), 'an append after');
    },
    check: (dir) => (ids(dir).join(',') === range(1, 62) ? undefined : `the stream holds ${ids(dir).length} records`),
  },
];
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i).join(',');
const cleanOutcome = new Map<string, string>();

describe.skipIf(!shim)('fault sweep: every store I/O call of put, merge, append and compact failed once and from there on', () => {
  for (const sc of scenarios) {
    it(`${sc.name}`, async () => {
      const template = join(root, sc.name, 'template', 'store');
      sc.template(template);
      // A clean run under the shim: the calls to fail, and (for merge) the outcome to match.
      const cleanDir = join(root, sc.name, 'clean', 'store');
      cpSync(join(template, '..'), join(cleanDir, '..'), { recursive: true });
      const clean = runCli(sc.args(cleanDir), { root: cleanDir, input: sc.input });
      expect(clean.code, clean.stderr).toBe(0);
      sc.recover(cleanDir, clean);
      if (sc.name === 'merge') cleanOutcome.set('merge', storeOutcome(cleanDir));
      const n = clean.calls.length;
      expect(n).toBeGreaterThan(5);
      const points = Array.from({ length: n }, (_, i) => i + 1).filter((i) => (i - 1) % STRIDE === 0 || i === n);
      const problems: string[] = [];
      let failedRuns = 0;
      for (const persist of [false, true]) {
        for (const at of points) {
          const dir = join(root, sc.name, `${persist ? 'p' : 'o'}${at}`, 'store');
          cpSync(join(template, '..'), join(dir, '..'), { recursive: true });
          const what = `${sc.name} ${persist ? 'from' : 'at'} call ${at} (${clean.calls[at - 1]?.call} ${clean.calls[at - 1]?.path.slice(dir.length - 5)})`;
          const r = runCli(sc.args(dir), { root: dir, at, persist, input: sc.input });
          if (r.code !== 0) {
            failedRuns++;
            const bad = badErrorOutput(r);
            if (bad) problems.push(`${what}: ${bad}`);
          }
          try {
            const after = sc.after(dir, r);
            if (after) problems.push(`${what}: ${after}`);
            sc.recover(dir, r);
            const check = sc.check(dir, r);
            if (check) problems.push(`${what}: ${check}`);
            const verify = cli(['verify', '--dir', dir]);
            if (verify.code !== 0) problems.push(`${what}: verify exited ${verify.code}: ${verify.out.slice(0, 200)}${verify.err.slice(0, 200)}`);
            // Temps a failed process could not remove are swept by the next start once old enough.
            sweepTemps([join(dir, 'inbox'), join(dir, 'quarantine'), join(dir, 'snapshots'), dir], { now: Date.now() + 120_000 });
            const temps = tempsUnder(dir);
            if (temps.length > 0) problems.push(`${what}: temp files left: ${temps.join(', ')}`);
          } catch (e) {
            problems.push(`${what}: ${(e as Error).message}`);
          }
          rmSync(join(dir, '..'), { recursive: true, force: true });
          // A turn of the event loop between points: the runs above are synchronous, and a worker
          // that never yields misses vitest's RPC deadline (an unhandled "Timeout calling onTaskUpdate").
          await new Promise((r) => setImmediate(r));
        }
      }
      process.stdout.write(`fault sweep ${sc.name}: ${n} store calls in a clean run, ${points.length} points × once/persistent = ${points.length * 2} faulted runs, ${failedRuns} of them failed with one line; ${problems.length} problems\n`);
      expect(problems).toEqual([]);
    }, 900_000);
  }
});
