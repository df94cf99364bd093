import type { Command } from 'commander';
import { FramelogError } from '../errors.js';
import { canonicalJson } from '../delta/canonicalJson.js';
import type { JsonValue } from '../delta/types.js';
import { diffStates } from '../merge/diffStates.js';
import { toState } from '../merge/canonicalState.js';
import { initStore, openStoreContext } from '../store/storeContext.js';
import { resolveStoreDir } from '../store/layout.js';
import { loadStateAt } from '../store/history/stateAt.js';
import { lastMergedFrame } from '../store/history/lastMergedFrame.js';
import type { StoreContext } from '../store/storeContext.js';
import { queryConflicts, queryEvents, readLog } from '../store/history/journalQueries.js';
import { verifyStore } from '../store/history/verifyStore.js';
import { verifyStreams } from '../stream/compact/verifyStreams.js';
import { ensureToken } from '../server/token.js';
import { action, frameRange, parseFrame, printNdjson, style } from './output.js';
import { addConflictFilters, conflictFilterOf, type ConflictFilterFlags } from './conflictFilters.js';
import { printDiff } from './humanOutput.js';
import { mergeCommand, putCommand } from './transportCommands.js';

interface DirOpt { dir?: string; json?: boolean }
const ctxOf = (o: DirOpt) => openStoreContext(resolveStoreDir(o.dir));
const dirOption = (c: Command): Command => c.option('--dir <dir>', 'store folder (default: $FRAMELOG_DIR or .framelog)');


/** Registers the core commands of PROTOCOL §7: init, put, merge, state, diff, log, conflicts, events, verify. */
/**
 * Says on stderr when a frame asked for is past the last merge: the state shown is the last one
 * (frames not merged yet have no state of their own).
 */
function noteBeyondLastMerge(ctx: StoreContext, frames: number[]): void {
  const last = lastMergedFrame(ctx);
  if (last === null) return void process.stderr.write(`framelog: nothing is merged yet: frame ${frames.join(' and frame ')} is the empty state\n`);
  for (const f of new Set(frames)) {
    if (f > last) process.stderr.write(`framelog: frame ${f} is past the last merge (frame ${last}); this is the state at frame ${last}\n`);
  }
}

export function registerCoreCommands(program: Command): void {
  dirOption(program.command('init'))
    .description('create a store (framelog.json with the default plan, and its folders)')
    .option('--writers <list>', 'comma-separated writers expected every frame')
    .addHelpText('after', '\nExamples:\n  framelog init\n  framelog init --dir runs/a --writers w1,w2,w3')
    .action(action((o: DirOpt & { writers?: string }) => {
      const dir = resolveStoreDir(o.dir);
      const ctx = initStore(dir, o.writers ? { writers: o.writers.split(',').filter(Boolean) } : {});
      ensureToken(dir);
      if (o.json) printNdjson([{ dir, plan: ctx.plan }]);
      else process.stdout.write(`initialised framelog store at ${dir}\n`);
    }));

  dirOption(program.command('put'))
    .description('validate deltas and drop them into the inbox (- reads NDJSON from stdin); all or nothing')
    .argument('<files...>', 'delta files, or - for NDJSON on standard input')
    .option('--json', 'print what was put as NDJSON')
    .addHelpText('after', '\nExamples:\n  framelog put delta.json\n  cat deltas.ndjson | framelog put -')
    .action(action((files: string[], o: DirOpt) => putCommand(files, o)));

  dirOption(program.command('merge'))
    .description('close pending frames: apply their deltas in merge order and journal the result')
    .option('--through <frame>', 'close only frames up to this one')
    .option('--json', 'print the merge records as NDJSON')
    .option('--watch', 'keep running: close each frame when every expected writer reported or frameTimeoutMs passed')
    .option('--frame-timeout <ms>', 'with --watch: override the plan\'s frameTimeoutMs')
    .addHelpText('after', '\nExamples:\n  framelog merge\n  framelog merge --through 12 --json\n  framelog merge --watch --frame-timeout 2000')
    .action(action((o: DirOpt & { through?: string; watch?: boolean; frameTimeout?: string }) => mergeCommand(o)));

  dirOption(program.command('state'))
    .description('canonical state JSON at frame N (default: the latest merge)')
    .option('--at <frame>', 'the frame')
    .option('--pretty', 'indent the JSON')
    .addHelpText('after', '\nExamples:\n  framelog state\n  framelog state --at 312 | jq .counters')
    .action(action((o: DirOpt & { at?: string; pretty?: boolean }) => {
      const ctx = ctxOf(o);
      const at = o.at === undefined ? undefined : parseFrame(o.at, '--at');
      if (at !== undefined) noteBeyondLastMerge(ctx, [at]);
      const state = toState(loadStateAt(ctx, at)) as unknown as JsonValue;
      process.stdout.write((o.pretty ? JSON.stringify(JSON.parse(canonicalJson(state)), null, 2) : canonicalJson(state)) + '\n');
    }));

  dirOption(program.command('diff'))
    .description('what changed between frame A and frame B: fields (old, new, writer), items added, counters')
    .argument('<a>', 'first frame').argument('<b>', 'second frame')
    .option('--json', 'print the diff as JSON')
    .addHelpText('after', '\nExamples:\n  framelog diff 10 11\n  framelog diff 0 50 --json | jq .fields')
    .action(action((a: string, b: string, o: DirOpt) => {
      const ctx = ctxOf(o);
      const fa = parseFrame(a, 'A'), fb = parseFrame(b, 'B');
      noteBeyondLastMerge(ctx, [fa, fb]);
      const d = diffStates(loadStateAt(ctx, fa), loadStateAt(ctx, fb), fa, fb);
      if (o.json) process.stdout.write(JSON.stringify(d) + '\n');
      else printDiff(d);
    }));

  dirOption(program.command('log'))
    .description('the merge records, NDJSON, oldest first')
    .option('--json', 'NDJSON (the default; accepted for symmetry)')
    .action(action((o: DirOpt) => printNdjson(readLog(ctxOf(o)))));

  addConflictFilters(dirOption(program.command('conflicts'))
    .description('conflict records, NDJSON: every loser of a field, item or delta identity'))
    .option('--open', 'only conflicts no resolution has closed yet')
    .option('--resolved', 'only conflicts a resolution has closed (each with resolvedBy)')
    .option('--json', 'NDJSON (the default)')
    .addHelpText('after', '\nEvery record carries its id (conflict: "m<merge>.<n>"), which framelog resolve names.\n\nExamples:\n  framelog conflicts --type agents --field status\n  framelog conflicts --open --frame 100..200 --writer worker-3\n  framelog conflicts --open | jq -r .conflict')
    .action(action((o: DirOpt & ConflictFilterFlags & { open?: boolean; resolved?: boolean }) => {
      const filter = conflictFilterOf(o);
      if (o.open && o.resolved) throw new FramelogError('--open and --resolved: give one of them', 'bad-argument');
      if (o.open || o.resolved) filter.open = o.open === true;
      printNdjson(queryConflicts(ctxOf(o), filter));
    }));

  dirOption(program.command('events'))
    .description('the event log, NDJSON: {merge, frame, writer, seq, utc, event}')
    .option('--type <type>', "the event's type (e.g. migration)")
    .option('--frame <n|a..b>', 'merge frame, or an inclusive range')
    .option('--writer <writer>', 'who emitted it')
    .option('--json', 'NDJSON (the default)')
    .addHelpText('after', '\nExamples:\n  framelog events --type migration | jq .event')
    .action(action((o: DirOpt & { type?: string; frame?: string; writer?: string }) => {
      printNdjson(queryEvents(ctxOf(o), { type: o.type, frame: frameRange(o.frame, '--frame'), writer: o.writer }));
    }));

  dirOption(program.command('verify'))
    .description('recompute every merge from the archive; check the chain, every state hash and snapshot')
    .option('--json', 'print the report as JSON')
    .action(action(async (o: DirOpt) => {
      const ctx = ctxOf(o);
      const report = verifyStore(ctx);
      const streams = await verifyStreams(ctx.layout.root); // segments and hash chains of streams/
      Object.assign(report, { streams: streams.streams, streamSegments: streams.segments, faults: [...report.faults, ...streams.faults], ok: report.ok && streams.faults.length === 0 });
      if (!o.json) for (const c of report.caches) process.stderr.write(`${style.yellow('cache')} ${c.file}: ${c.message}\n`);
      if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
      else if (report.ok) process.stdout.write(`${style.green('ok')}: ${report.merges} merges, ${report.deltas} archived deltas, ${report.snapshots} snapshots, ${streams.streams} streams (${streams.segments} segments) verified\n`);
      else {
        for (const f of report.faults) process.stderr.write(`${style.red('fault')} ${f.file}${f.line ? `:${f.line}` : ''}${f.frame !== undefined ? ` (frame ${f.frame})` : ''}: ${f.message}\n`);
      }
      if (!report.ok) {
        const f = report.faults[0];
        if (o.json) process.stderr.write(`framelog: verify failed: ${f.file}${f.frame !== undefined ? ` (frame ${f.frame})` : ''}: ${f.message}\n`);
        process.exitCode = 1;
      }
    }));
}
