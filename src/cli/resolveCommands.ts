import type { Command } from 'commander';
import { canonicalJson } from '../delta/canonicalJson.js';
import type { JsonValue } from '../delta/types.js';
import { FramelogError } from '../errors.js';
import { loadResolver, parsePolicyText, planResolution, whatIf, type ResolveChoice, type ResolveRequest, type WhatIfReport } from '../resolve/index.js';
import { parsePlan } from '../delta/plan.js';
import type { ConflictEntry } from '../store/history/journalQueries.js';
import { printDiff } from './humanOutput.js';
import { progressBar } from '../engine/demos/progressBar.js';
import { readFileSync } from 'node:fs';
import { openStoreContext } from '../store/storeContext.js';
import { resolveStoreDir } from '../store/layout.js';
import { action, parseFrame, printNdjson } from './output.js';
import { addConflictFilters, conflictFilterOf, type ConflictFilterFlags } from './conflictFilters.js';
import { putInputs, transportConfigOf, type TransportFlags } from './transportCommands.js';

interface ResolveFlags extends TransportFlags, ConflictFilterFlags {
  value?: string; winner?: string; policy?: string; keep?: boolean; with?: string; as?: string;
  all?: boolean; dryRun?: boolean; atFrame?: string;
}

function choiceOf(o: ResolveFlags): ResolveChoice | undefined {
  const given = (['value', 'winner', 'policy', 'keep', 'with'] as const).filter((k) => o[k] !== undefined);
  if (given.length !== 1) throw new FramelogError(`give exactly one of --value, --winner, --policy, --keep, --with (got ${given.length ? given.map((g) => `--${g}`).join(', ') : 'none'})`, 'bad-argument');
  if (o.value !== undefined) {
    try {
      return { value: JSON.parse(o.value) as JsonValue };
    } catch (e) {
      throw new FramelogError(`--value: not JSON (a string needs its quotes: --value '"idle"'): ${(e as Error).message}`, 'bad-argument');
    }
  }
  if (o.winner !== undefined) return { winner: o.winner };
  if (o.policy !== undefined) return { policy: parsePolicyText(o.policy) };
  if (o.keep) return { keep: true };
  return undefined;
}

/** Registers `framelog resolve` (PROTOCOL §2a, §7). */
export function registerResolveCommands(program: Command): void {
  const cmd = program.command('resolve')
    .description('close conflicts with a resolution delta (written to the inbox or through the transport; the next merge applies it)')
    .argument('[ids...]', 'conflict ids (m<merge>.<n>, from framelog conflicts --open); none: every open conflict passing the filters')
    .option('--dir <dir>', 'store folder (default: $FRAMELOG_DIR or .framelog)')
    .option('--value <json>', 'write this value (an item, for an item conflict)')
    .option('--winner <writer>', 'write the value this writer wrote in the conflict')
    .option('--policy <policy>', 'pick among the conflict\'s values by a policy: lww, first, max, min, union or {"priority":[...]}')
    .option('--keep', 'the merge\'s winner stands: close the conflict, writing nothing')
    .option('--with <module>', 'a resolver module exporting resolve(conflict, state): the value, or undefined to leave it open')
    .option('--as <writer>', 'the resolution\'s writer (default human.<user>; policy.<name> for --policy and --with)');
  addConflictFilters(cmd, 'bulk: ')
    .option('--all', 'bulk, with no filter: every open conflict')
    .option('--at-frame <n>', 'the resolution\'s frame (default: the frame after the last merge)')
    .option('--dry-run', 'print the resolution deltas (NDJSON) instead of putting them')
    .option('--json', 'print what was put as NDJSON')
    .addHelpText('after', `
A resolution's writes outrank every field policy, and every later ordinary write too: the field then
changes only by another resolution. --keep closes a conflict without that.

Examples:
  framelog conflicts --open
  framelog resolve m12.0 --value '"idle"'
  framelog resolve m12.0 m13.2 --winner supervisor --as human.ana
  framelog resolve --type agents --field load --policy max
  framelog resolve --all --with ./resolver.mjs --dry-run`)
    .action(action(async (ids: string[], o: ResolveFlags) => {
      const filter = conflictFilterOf(o);
      const choice = choiceOf(o);
      const resolver = o.with !== undefined ? await loadResolver(o.with) : undefined;
      const ctx = openStoreContext(resolveStoreDir(o.dir));
      const remote = transportConfigOf(o).transport !== 'fs';
      const req: ResolveRequest = {
        ids, filter, all: o.all, ...(choice ? { choice } : {}), ...(resolver ? { resolver } : {}), ...(o.as !== undefined ? { as: o.as } : {}),
        ...(o.atFrame !== undefined ? { frame: parseFrame(o.atFrame, '--at-frame') } : {}),
        // An engine's pending deltas are not in this folder's inbox: a clock-based seq keeps two resolutions apart.
        ...(remote ? { seq: Date.now() % 2 ** 31 } : {}),
      };
      const plan = await planResolution(ctx, req);
      for (const id of plan.reresolved) process.stderr.write(`framelog: ${id} was already resolved; this resolution outranks the earlier one (later stamp)\n`);
      if (plan.declined.length > 0) process.stderr.write(`framelog: the resolver left ${plan.declined.length} open: ${plan.declined.slice(0, 10).join(' ')}${plan.declined.length > 10 ? ' …' : ''}\n`);
      if (plan.deltas.length === 0) {
        process.stderr.write(`framelog: nothing to resolve${ids.length === 0 ? ' (no open conflict passes the filters)' : ''}; nothing was written\n`);
        return;
      }
      if (o.dryRun) return printNdjson(plan.deltas as unknown as JsonValue[]);
      const lines = plan.deltas.map((d, i) => ({ bytes: Buffer.from(canonicalJson(d as unknown as JsonValue)), source: `resolution #${i + 1}` }));
      await putInputs(lines, { ...o, json: o.json }, (n) => {
        const d = plan.deltas[0];
        return `resolved ${plan.resolves.length} conflict${plan.resolves.length === 1 ? '' : 's'} (${plan.resolves.slice(0, 8).join(' ')}${plan.resolves.length > 8 ? ' …' : ''}) as ${d.writer} at frame ${d.frame}: put ${n}; the next merge applies ${plan.deltas.length === 1 ? 'it' : 'them'}`;
      });
    }));
}

const show = (v: unknown): string => {
  const t = JSON.stringify(v);
  return t.length > 60 ? t.slice(0, 57) + '...' : t;
};
function placeText(c: ConflictEntry): string {
  if (c.kind === 'field') return `field ${c.type}/${c.id}.${c.field}${c.policy ? ` (${typeof c.policy === 'string' ? c.policy : 'priority'})` : ''}`;
  if (c.kind === 'item') return `item ${c.collection} ${c.key}`;
  return `delta ${c.frame}/${c.writer}/${c.seq}`;
}
const winnerText = (c: ConflictEntry): string => (c.kind === 'delta' ? `kept ${c.kept.slice(0, 12)}` : `${show(c.winner.value)} (${c.winner.writer})`);

function printWhatIf(r: WhatIfReport, planFile: string): void {
  const range = r.from === null ? `merges up to frame ${r.to}` : `merges after frame ${r.from} up to ${r.to}`;
  process.stdout.write(`what if the ${range} had run under ${planFile}: ${r.merges} merges replayed in a scratch store${r.scratch ? ` (kept at ${r.scratch})` : ''}\n`);
  process.stdout.write(`state at frame ${r.to}, real → what-if:\n`);
  printDiff({ ...r.diff, from: r.to, to: r.to });
  const { appeared, vanished, changedWinner } = r.conflicts;
  process.stdout.write(`conflicts: ${appeared.length} appear, ${vanished.length} vanish, ${changedWinner.length} change winner\n`);
  for (const c of appeared) process.stdout.write(`  + merge ${c.merge} ${placeText(c)}: ${winnerText(c)}\n`);
  for (const c of vanished) process.stdout.write(`  - merge ${c.merge} ${placeText(c)}: was ${winnerText(c)}\n`);
  const policy = (c: ConflictEntry): string => (c.kind === 'field' && c.policy !== undefined ? `, ${typeof c.policy === 'string' ? c.policy : 'priority'}` : '');
  for (const { real, whatif } of changedWinner) {
    process.stdout.write(`  ~ merge ${real.merge} ${placeText({ ...whatif, policy: undefined } as ConflictEntry)}: ${winnerText(real).replace(/\)$/, policy(real) + ')')} → ${winnerText(whatif).replace(/\)$/, policy(whatif) + ')')}\n`);
  }
  for (const q of r.quarantined) process.stdout.write(`  quarantined in the what-if run (merge ${q.merge}): ${q.file}: ${q.why}\n`);
}

/** Registers `framelog whatif`. */
export function registerWhatIfCommand(program: Command): void {
  program.command('whatif')
    .description('replay the archived deltas under another plan (policies, item keys…) in a scratch store and show how state and conflicts would differ; the store is not touched')
    .requiredOption('--plan <file>', 'the other plan (a framelog.json)')
    .option('--dir <dir>', 'store folder (default: $FRAMELOG_DIR or .framelog)')
    .option('--from <frame>', 'merges up to this frame keep the store\'s plan; the other plan applies after it')
    .option('--to <frame>', 'the last merge replayed, and the frame compared (default: the last merge)')
    .option('--keep <dir>', 'keep the scratch store in this (new) folder, to look at with state, conflicts or serve')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Examples:
  framelog whatif --plan max-load.json
  framelog whatif --plan other.json --from 100 --to 200 --json | jq '.conflicts.changedWinner | length'
  framelog whatif --plan other.json --keep /tmp/other && framelog serve --dir /tmp/other`)
    .action(action((o: { plan: string; dir?: string; from?: string; to?: string; keep?: string; json?: boolean }) => {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(o.plan, 'utf8'));
      } catch (e) {
        throw new FramelogError(`--plan ${o.plan}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON: ${(e as Error).message}`}`, 'bad-argument');
      }
      const plan = parsePlan(raw, o.plan);
      const ctx = openStoreContext(resolveStoreDir(o.dir));
      const bar = progressBar(' replaying {bar} {value}/{total} merges');
      let started = false;
      const t0 = Date.now();
      try {
        const report = whatIf(ctx, {
          plan, ...(o.from !== undefined ? { from: parseFrame(o.from, '--from') } : {}), ...(o.to !== undefined ? { to: parseFrame(o.to, '--to') } : {}),
          ...(o.keep !== undefined ? { scratchDir: o.keep } : {}),
          onProgress: (done, total) => {
            if (!started && Date.now() - t0 < 1000) return; // a short replay needs no bar
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(done);
          },
        });
        if (started) bar.stop();
        started = false;
        if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
        else printWhatIf(report, o.plan);
      } finally {
        if (started) bar.stop();
      }
    }));
}
