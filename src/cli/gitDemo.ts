import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { FramelogError } from '../errors.js';
import type { Delta } from '../delta/types.js';
import type { MergeRecord } from '../merge/records.js';
import { readLog } from '../store/history/journalQueries.js';
import { openStoreContext } from '../store/storeContext.js';
import { landDeltas } from '../store/inbox/landDeltas.js';
import { readArchiveEntries } from '../store/history/archive.js';
import { verifyStore } from '../store/history/verifyStore.js';
import { createWriter } from '../writer/createWriter.js';
import { git } from '../transport/git/gitCommand.js';
import { initGitStore } from '../transport/git/gitStore.js';
import { openGitTransport } from '../transport/git/gitTransport.js';
import { runTransportMerger } from '../transport/runTransportMerger.js';
import { demoUnit } from './demoWriter.js';
import { seededRandom } from '../engine/rng/seededRandom.js';
import { action, parseCount, parseFrame, style } from './output.js';
import { lateWhy } from './lateWhy.js';
import { progressBar } from '../engine/demos/progressBar.js';
import { finalStateSha256 } from '../engine/demos/demoSupport.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const MARKER = '.framelog-demo-git';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What one demo writer process reports when it ends: the inbox names of every delta it sent. */
export interface GitDemoWriterReport { writer: string; sent: string[]; pushes: number }

/**
 * One writer of `framelog demo git`, in its own clone: a unit of work per frame through the
 * `Writer` API into the clone's spool, then one commit and push per frame. Misbehaves on purpose
 * like the fs demo's writers: worker-7 crashes (fallback), worker-3 is slow (late), worker-5
 * redelivers an old delta (duplicate), worker-6 pushes a malformed file (quarantine).
 */
async function runGitDemoWriter(o: { index: number; writers: number; frames: number; seed: number; timeout: number; startAt: number; url: string; clone: string; periodMs: number }): Promise<GitDemoWriterReport> {
  const name = `worker-${o.index}`;
  const transport = await openGitTransport({ url: o.url, dir: o.clone, identity: name });
  const writer = createWriter({ dir: o.clone, writer: name });
  const ctx = openStoreContext(o.clone);
  const rnd = seededRandom(o.seed * 1000 + o.index);
  const sent: string[] = [];
  const old = new Map<number, Delta>();
  let pushes = 0;
  // Pushing runs beside the work: while one push is on its way, the next frames wait in the spool
  // and go together in the next commit (under contention a writer batches by itself).
  let pending: Promise<void> | undefined;
  let again = false;
  const publishSoon = (): void => {
    if (pending) {
      again = true;
      return;
    }
    pending = (async () => {
      do {
        again = false;
        const r = await transport.publish();
        if (r.committed > 0) pushes++;
      } while (again);
    })().finally(() => { pending = undefined; });
  };
  for (let f = 1; f <= o.frames; f++) {
    await sleep(Math.max(0, o.startAt + (f - 1) * o.periodMs - Date.now()) + rnd() * o.periodMs * 0.5);
    if (o.index === 3 && f % 16 === 0) await sleep(o.timeout * 1.2);
    const unit = await writer.run(f, (d) => demoUnit(d, o.index, 0, f, rnd, false));
    sent.push(unit.put.file.slice('inbox/'.length));
    old.set(f, unit.delta);
    const redo = old.get(f - 10);
    if (o.index === 5 && f % 8 === 0 && redo) {
      // A retrying writer redelivers an old delta, byte for byte (once the first copy has gone out).
      while (pending) await pending;
      sent.push(landDeltas(ctx, [Buffer.from(JSON.stringify(redo))])[0].name);
    }
    if (o.index === 6 && f === Math.ceil(o.frames / 2)) {
      // A buggy writer in another language pushes a file that breaks the protocol.
      sent.push(landDeltas(ctx, [Buffer.from(`{"frame":${f},"writer":"${name}","utc":"${new Date().toISOString()}","counters":{"tasks_done":NaN}}`)])[0].name);
    }
    publishSoon();
  }
  while (pending) await pending;
  await transport.publish();
  await transport.close();
  return { writer: name, sent, pushes };
}

interface GitDemoOptions { dir: string; frames: string; writers: string; seed: string; timeout: string; period: string; json?: boolean }

/** Registers `framelog demo git` (as a subcommand of `demo`, or on its own) and its hidden writer process. */
export function registerGitDemo(program: Command): void {
  const demo = program.commands.find((c) => c.name() === 'demo');
  // `demo` has options of the same names: let those after `git` belong to `demo git`.
  program.enablePositionalOptions();
  demo?.enablePositionalOptions();
  const cmd = demo ? demo.command('git') : program.command('demo-git');
  cmd.description('W writer processes, each in its own git clone, push deltas to one bare repository while a merger pulls, merges and pushes')
    .option('--dir <dir>', 'folder for the demo: shared.git, merger/, clones/ (made fresh)', '.framelog-demo-git')
    .option('--frames <n>', 'frames per writer', '50')
    .option('--writers <n>', 'writer processes', '8')
    .option('--seed <n>', 'seed of the writers\' randomness', '1')
    .option('--timeout <ms>', 'frame timeout: how long the merger waits for a slow writer', '3000')
    .option('--period <ms>', 'how often writers start a frame', '100')
    .option('--json', 'print the summary as JSON')
    .action(action(async (o: GitDemoOptions) => {
      const frames = parseCount(o.frames, '--frames'), n = parseCount(o.writers, '--writers');
      const seed = parseFrame(o.seed, '--seed'), timeout = parseFrame(o.timeout, '--timeout'), period = parseFrame(o.period, '--period');
      const root = resolve(o.dir);
      if (existsSync(root)) {
        if (!existsSync(join(root, MARKER)) && readdirSync(root).length > 0) throw new FramelogError(`${o.dir}: exists and was not made by framelog demo git (give another --dir)`, 'exists');
        rmSync(root, { recursive: true, force: true });
      }
      const url = join(root, 'shared.git'), storeDir = join(root, 'merger');
      const names = Array.from({ length: n }, (_, i) => `worker-${i}`);
      await initGitStore({ url, dir: storeDir, plan: { writers: names, frameTimeoutMs: timeout } });
      writeFileSync(join(root, MARKER), 'made by framelog demo git\n');
      const started = Date.now();
      const totals = { merges: 0, applied: 0, late: 0, fallback: 0, missing: 0, duplicates: 0, conflicts: 0, quarantined: 0 };
      const bar = progressBar(' merging {bar} {value}/{total} frames | {applied} deltas | {conflicts} conflicts | late {late}');
      if (!o.json) bar.start(frames, 0, { applied: 0, conflicts: 0, late: 0 });
      const onMerge = (r: MergeRecord): void => {
        totals.merges++;
        totals.applied += r.applied.length; totals.late += r.late.length; totals.fallback += r.fallback.length;
        totals.missing += r.missing.length; totals.duplicates += r.duplicates.length; totals.conflicts += r.conflicts; totals.quarantined += r.quarantined.length;
        if (!o.json) bar.update(Math.min(frames, r.frame), { applied: totals.applied, conflicts: totals.conflicts, late: totals.late });
      };
      const startAt = Date.now() + 800;
      const reports: GitDemoWriterReport[] = [];
      let failed = 0;
      const children: ChildProcess[] = names.map((_, i) => spawn(process.execPath, [MAIN, '_git-demo-writer', JSON.stringify({ index: i, writers: n, frames, seed, timeout, startAt, url, clone: join(root, 'clones', names[i]), periodMs: period })], { stdio: ['ignore', 'pipe', 'inherit'] }));
      const exits = children.map((c) => new Promise<void>((res) => {
        let out = '';
        c.stdout!.on('data', (b: Buffer) => (out += b.toString()));
        c.on('exit', (code) => {
          if (code !== 0) failed++;
          else reports.push(JSON.parse(out) as GitDemoWriterReport);
          res();
        });
      }));
      const guard = setTimeout(() => { for (const c of children) c.kill('SIGKILL'); }, 600_000);
      const abort = new AbortController();
      const ctx = openStoreContext(storeDir);
      try {
        const merger = await openGitTransport({ url, dir: storeDir, role: 'merger' });
        const watching = runTransportMerger(ctx, merger, { watch: true, signal: abort.signal, onMerge, pollMs: 200 });
        await Promise.all(exits);
        clearTimeout(guard);
        await sleep(timeout + 500);
        abort.abort();
        await watching;
        await runTransportMerger(ctx, merger, { onMerge }); // the stragglers (late deltas)
        await merger.close();
      } finally {
        if (!o.json) bar.stop(); // a bar left running would keep the process alive
      }
      if (failed) throw new FramelogError(`${failed} demo writer process(es) failed`, 'demo-failed');
      const records = readLog(ctx);
      const archived = new Set<string>();
      for (const r of records) for (const e of readArchiveEntries(ctx, r.frame).entries) archived.add(e.name);
      const quarantinedNames = new Set(records.flatMap((r) => r.quarantined.map((q) => q.file)));
      const sent = reports.flatMap((r) => r.sent);
      const lost = sent.filter((s) => !archived.has(s) && !quarantinedNames.has(s));
      const subjects = (await git(url, ['log', '--format=%s', 'main'])).split('\n').filter(Boolean);
      const mergeCommits = subjects.filter((s) => s.startsWith('merge frame ')).length;
      const report = verifyStore(ctx);
      const summary = {
        dir: o.dir, url, writers: n, frames, seconds: (Date.now() - started) / 1000, ...totals,
        sent: sent.length, lost: lost.length, pushes: reports.reduce((a, r) => a + r.pushes, 0), commits: subjects.length, mergeCommits,
        lastFrame: records.at(-1)?.frame ?? null, state_sha256: records.length ? finalStateSha256(storeDir) : null, verify: report.ok,
      };
      if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else {
        process.stdout.write([
          '',
          `${style.bold('framelog demo git')}: ${n} writer processes in their own clones × ${frames} frames, one bare repository, in ${summary.seconds.toFixed(1)} s`,
          `  pushes      ${summary.pushes} by writers; ${summary.commits} commits on main, ${mergeCommits} of them "merge frame N" (${records.length} merges)`,
          `  deltas      ${sent.length} sent, ${lost.length} lost; ${totals.applied} applied, ${totals.late} late, ${totals.duplicates} duplicates`,
          `  writers     ${totals.fallback} fallbacks, ${totals.missing} missing at close`,
          ...lateWhy(totals.late, totals.missing, timeout, `over git a delta reaches the merger when its writer's push lands, and ${n} writers' pushes to one repository wait for each other and rebase; one writer also sleeps past the timeout on purpose`),
          `  conflicts   ${totals.conflicts}`,
          `  quarantined ${totals.quarantined}`,
          `  verify      ${report.ok ? style.green('ok') : style.red('FAILED: ' + report.faults[0]?.message)}`,
          '',
          'Look around:',
          `  git -C ${url} log --oneline | head`,
          `  framelog state --dir ${storeDir} --pretty`,
          `  framelog conflicts --dir ${storeDir} --type board | head -3`,
          '',
        ].join('\n'));
      }
      if (!report.ok || lost.length > 0 || mergeCommits !== records.length) process.exitCode = 1;
    }));

  program.command('_git-demo-writer', { hidden: true })
    .argument('<options>')
    .action(action(async (options: string) => {
      const report = await runGitDemoWriter(JSON.parse(options));
      process.stdout.write(JSON.stringify(report) + '\n');
    }));
}
