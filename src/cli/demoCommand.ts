import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progressBar } from '../engine/demos/progressBar.js';
import type { Command } from 'commander';
import { cliInvocation, finalStateSha256, serveCommand } from '../engine/demos/demoSupport.js';
import { FramelogError } from '../errors.js';
import type { MergeRecord } from '../merge/records.js';
import { initStore } from '../store/storeContext.js';
import { openMergerOn } from '../store/openStore.js';
import { createFsTransport } from '../transport/fs/fsTransport.js';
import { runTransportMerger } from '../transport/runTransportMerger.js';
import { verifyStore } from '../store/history/verifyStore.js';
import { lateWhy } from './lateWhy.js';
import { action, parseCount, parseFrame, style } from './output.js';
import { runDemoWriter } from './demoWriter.js';
import { addEngineDemoOptions, isEngineDemo, runEngineDemo } from './engineCommands.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const MARKER = '.framelog-demo';

interface DemoOptions { dir: string; frames: string; writers: string; seed: string; timeout: string; json?: boolean }

/** Prepares a fresh demo store, wiping only a folder that an earlier demo made. */
function freshStore(dir: string, writers: string[], frameTimeoutMs: number) {
  if (existsSync(dir)) {
    if (!existsSync(join(dir, MARKER)) && readdirSync(dir).length > 0) {
      throw new FramelogError(`${dir}: exists and was not made by framelog demo (give another --dir)`, 'exists');
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const ctx = initStore(dir, { writers, frameTimeoutMs });
  rmSync(join(dir, MARKER), { force: true });
  return ctx;
}

/** Registers `framelog demo` and its hidden writer process. */
export function registerDemoCommand(program: Command): void {
  const demo = program.command('demo')
    .description('8 writer processes write deltas for 50 frames while the merger closes frames; or a simulation demo: evolution, ecosystem, fleet')
    .argument('[name]', 'writers (the default), evolution, ecosystem or fleet')
    .option('--dir <dir>', 'store folder for the demo (made fresh)', '.framelog-demo')
    .option('--frames <n>', 'frames per writer', '50')
    .option('--writers <n>', 'writer processes', '8')
    .option('--seed <n>', 'seed of the writers\' randomness', '1')
    .option('--timeout <ms>', 'frame timeout: how long the merger waits for a slow writer (3 s fits a loaded 2-core machine)', '3000')
    .option('--json', 'print the summary as JSON');
  addEngineDemoOptions(demo)
    .action(action(async (name: string | undefined, o: DemoOptions, cmd: Command) => {
      if (isEngineDemo(name)) return runEngineDemo(name, o as unknown as Record<string, string | boolean | undefined>, cmd);
      if (name !== undefined && name !== 'writers') throw new FramelogError(`demo ${name}: no such demo (writers, evolution, ecosystem, fleet)`, 'bad-argument');
      const frames = parseCount(o.frames, '--frames'), n = parseCount(o.writers, '--writers');
      const seed = parseFrame(o.seed, '--seed'), timeout = parseFrame(o.timeout, '--timeout');
      const names = Array.from({ length: n }, (_, i) => `worker-${i}`);
      const ctx = freshStore(o.dir, names, timeout);
      await import('node:fs').then((fs) => fs.writeFileSync(join(o.dir, MARKER), 'made by framelog demo\n'));
      const started = Date.now();
      const bar = progressBar(' merging {bar} {value}/{total} frames | {applied} deltas | {conflicts} conflicts | late {late} | fallback {fallback}');
      const showBar = !o.json;
      if (showBar) bar.start(frames, 0, { applied: 0, conflicts: 0, late: 0, fallback: 0 });
      const totals = { merges: 0, applied: 0, late: 0, fallback: 0, missing: 0, duplicates: 0, conflicts: 0, quarantined: 0 };
      const onMerge = (r: MergeRecord) => {
        totals.merges++;
        totals.applied += r.applied.length; totals.late += r.late.length; totals.fallback += r.fallback.length;
        totals.missing += r.missing.length; totals.duplicates += r.duplicates.length; totals.conflicts += r.conflicts; totals.quarantined += r.quarantined.length;
        if (showBar) bar.update(Math.min(frames, r.frame), { applied: totals.applied, conflicts: totals.conflicts, late: totals.late, fallback: totals.fallback });
      };
      const abort = new AbortController();
      const startAt = Date.now() + 400; // writer processes take a moment to start
      const children: ChildProcess[] = names.map((_, i) => spawn(process.execPath, [MAIN, '_demo-writer', String(i), String(n), String(frames), String(seed), String(timeout), String(startAt), resolve(o.dir)], { stdio: ['ignore', 'ignore', 'inherit'] }));
      let failed = 0;
      const exits = children.map((c) => new Promise<void>((res) => c.on('exit', (code) => { if (code !== 0) failed++; res(); })));
      const guard = setTimeout(() => { for (const c of children) c.kill('SIGKILL'); }, 120_000);
      try {
        const watching = runTransportMerger(ctx, createFsTransport(ctx.layout.root), { watch: true, signal: abort.signal, onMerge, pollMs: 50 });
        await Promise.all(exits);
        clearTimeout(guard);
        // Let the watcher close what is complete, then stop it and merge the stragglers (late deltas).
        await new Promise((r) => setTimeout(r, timeout + 100));
        abort.abort();
        await watching;
        const merger = openMergerOn(ctx);
        try {
          for (const r of merger.merge()) onMerge(r);
        } finally {
          merger.close();
        }
      } finally {
        if (showBar) bar.stop(); // a bar left running would keep the process alive
      }
      if (failed) throw new FramelogError(`${failed} demo writer process(es) failed`, 'demo-failed');
      const report = verifyStore(ctx);
      const records = (await import('../store/history/journalQueries.js')).readLog(ctx);
      const summary = {
        dir: o.dir, writers: n, frames, frameTimeoutMs: timeout, seconds: (Date.now() - started) / 1000, ...totals,
        lastFrame: records.at(-1)?.frame ?? null, state_sha256: records.length ? finalStateSha256(o.dir) : null, verify: report.ok,
      };
      if (o.json) {
        process.stdout.write(JSON.stringify(summary) + '\n');
        return;
      }
      const d = o.dir;
      process.stdout.write([
        '',
        `${style.bold('framelog demo')}: ${n} writer processes × ${frames} frames in ${summary.seconds.toFixed(1)} s`,
        `  merges      ${totals.merges} (last frame ${summary.lastFrame})`,
        `  deltas      ${totals.applied} applied, ${totals.late} late, ${totals.duplicates} duplicates`,
        `  writers     ${totals.fallback} fallbacks, ${totals.missing} missing at close`,
        ...lateWhy(totals.late, totals.missing, timeout, 'one writer here sleeps past it now and then, on purpose'),
        `  conflicts   ${totals.conflicts} (every loser kept in journal/conflicts.ndjson)`,
        `  quarantined ${totals.quarantined}`,
        `  state hash  ${summary.state_sha256}`,
        `  verify      ${report.ok ? style.green('ok') : style.red('FAILED: ' + report.faults[0]?.message)}`,
        '',
        'Look around:',
        ...[
          `framelog state --dir ${d} --pretty`,
          `framelog log --dir ${d} | jq -c '{frame, applied: (.applied|length), late, fallback, missing}'`,
          `framelog conflicts --dir ${d} --type board | head -3`,
          `framelog diff 10 11 --dir ${d}`,
          `framelog events --dir ${d} --type handoff`,
          `framelog verify --dir ${d}`,
          serveCommand(d) ?? '',
        ].filter((c) => c !== '').map((c) => `  ${c.replace(/^framelog /, `${cliInvocation()} `)}`),
        '',
      ].join('\n'));
      if (!report.ok) process.exitCode = 1;
    }));

  program.command('_demo-writer', { hidden: true })
    .argument('<index>').argument('<writers>').argument('<frames>').argument('<seed>').argument('<timeout>').argument('<startAt>').argument('<dir>')
    .action(action(async (index: string, writers: string, frames: string, seed: string, timeout: string, startAt: string, dir: string) => {
      await runDemoWriter({ dir, index: +index, writers: +writers, frames: +frames, seed: +seed, frameTimeoutMs: +timeout, startAt: +startAt, periodMs: 40 });
    }));
}
