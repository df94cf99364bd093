import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { progressBar } from './progressBar.js';
import { FramelogError } from '../../errors.js';
import type { MergeRecord } from '../../merge/records.js';
import { addRecord, emptyTotals, type RunTotals } from '../run/runTotals.js';
import { stateSha256 } from '../../merge/canonicalState.js';
import { loadStateAt } from '../../store/history/stateAt.js';
import { openStoreContext } from '../../store/storeContext.js';

/**
 * SHA-256 of the store's state after its last merge (`framelog state | head -c -1 | sha256sum`).
 * A demo summary shows this, not the last record's `state_sha256`: records between checkpoints
 * carry none, and the last checkpoint's is an older state's.
 */
export function finalStateSha256(dir: string): string {
  return stateSha256(loadStateAt(openStoreContext(dir)));
}

/** Options every demo takes (`framelog demo NAME --frames N --seed S --workers W --size N --dir D`). */
export interface DemoOptions {
  frames: number;
  /** As given: a whole number is a number (see `seedAsGiven`). */
  seed: string | number;
  workers: number;
  size: number;
  shards: number;
  dir: string;
  /** Print the summary as JSON, and no progress bars. */
  json: boolean;
}

/** What every demo summary says, plus the demo's own figures. */
export interface DemoSummary extends RunTotals {
  demo: string;
  dir: string;
  frames: number;
  shards: number;
  workers: number;
  size: number;
  seed: string | number;
  seconds: number;
  /** SHA-256 over every file of the store (equal for equal seeds). */
  store_sha256: string;
  verify: boolean;
  /** Files the demo exported, by what they are. */
  exports: Record<string, string>;
  /** The demo's own figures. */
  figures: Record<string, number | string>;
}

const MARKER = '.framelog-demo';

/** Prepares an empty folder for a demo's store, removing only a folder an earlier demo made. */
export function freshDemoDir(dir: string): void {
  if (existsSync(dir)) {
    if (!existsSync(join(dir, MARKER)) && readdirSync(dir).length > 0) {
      throw new FramelogError(`${dir}: exists and was not made by framelog demo (give another --dir)`, 'exists');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Marks `dir` as made by a demo (a dot file: outside the store's fingerprint). */
export function markDemoDir(dir: string): void {
  writeFileSync(join(dir, MARKER), 'made by framelog demo\n');
}

/** A progress bar on stderr (never with --json; without a terminal, a line now and then), fed with merge records. */
export function mergeProgress(label: string, total: number, quiet: boolean): { onMerge: (r: MergeRecord) => void; stop: () => void; totals: RunTotals } {
  const totals = emptyTotals();
  const show = !quiet;
  const bar = progressBar(` ${label.padEnd(10)} {bar} {value}/{total} frames | {deltas} deltas | {conflicts} conflicts | late {late} | fallback {fallback} | missing {missing}`);
  if (show) bar.start(total, 0, { deltas: 0, conflicts: 0, late: 0, fallback: 0, missing: 0 });
  return {
    totals,
    onMerge(r) {
      addRecord(totals, r);
      if (show) bar.update(Math.min(total, r.frame), { deltas: totals.deltas, conflicts: totals.conflicts, late: totals.late, fallback: totals.fallback, missing: totals.missing });
    },
    stop: () => {
      if (show) bar.stop();
    },
  };
}

/** The `framelog serve` line of every summary: the command, and the viewer's URL (the default port). */
export const serveCommand = (dir: string): string | undefined => `framelog serve --dir ${dir}   # then open the viewer: http://127.0.0.1:4600/`;

/**
 * How this person runs the CLI: `framelog` when a `framelog` is on their PATH (a global install,
 * or npm scripts and npx, which put node_modules/.bin there), `npx framelog` otherwise (a local
 * install run as `node_modules/.bin/framelog` or `node dist/cli/main.js`).
 */
export function cliInvocation(env: NodeJS.ProcessEnv = process.env): string {
  // npm and npx put node_modules/.bin folders (the project's, or a temporary one of npx) on the
  // PATH of what they run: a framelog there is not one the user's own shell finds.
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d && !/node_modules[\\/]\.bin[\\/]?$/.test(d));
  return dirs.some((d) => existsSync(join(d, 'framelog'))) ? 'framelog' : 'npx framelog';
}

/** Prints a demo summary for people: what ran, what merged, where the files are, what to try next. */
export function printSummary(s: DemoSummary, lines: string[], next: string[]): void {
  const b = (t: string): string => (process.stdout.isTTY && !process.env.NO_COLOR ? `\u001b[1m${t}\u001b[22m` : t);
  const serve = serveCommand(s.dir);
  const fleet = s.demo === 'fleet';
  const cli = cliInvocation();
  process.stdout.write([
    '',
    fleet
      ? `${b('framelog demo fleet')}: ${s.frames} frames, ${s.workers} agent processes, ${s.size} work items, seed ${s.seed}, in ${s.seconds.toFixed(1)} s`
      : `${b(`framelog demo ${s.demo}`)}: ${s.frames} frames, ${s.shards} shards on ${s.workers} worker process${s.workers === 1 ? '' : 'es'}, seed ${s.seed}, in ${s.seconds.toFixed(1)} s`,
    `  merges      ${s.merges} (frames ${s.first}…${s.last})`,
    `  deltas      ${s.deltas} applied, ${s.late} late, ${s.duplicates} duplicates`,
    `  ${fleet ? 'writers' : 'shards '}     ${s.fallback} fallbacks, ${s.missing} missing at close`,
    `  conflicts   ${s.conflicts}`,
    ...lines.map((l) => `  ${l}`),
    `  state hash  ${s.state_sha256}`,
    fleet ? `  store hash  ${s.store_sha256} (wall-clock fleet: differs run to run)` : `  store hash  ${s.store_sha256} (same seed → same bytes)`,
    `  verify      ${s.verify ? 'ok' : 'FAILED'}`,
    '',
    `Files: ${s.dir}/ (the store: journal/, archive/, snapshots/${fleet ? ', streams/' : ', run.json'})`,
    ...Object.entries(s.exports).map(([k, v]) => `  ${k.padEnd(12)}${v}`),
    '',
    'Try next:',
    ...[...next, ...(serve ? [serve] : [])].map((n) => `  ${n.replace(/^framelog /, `${cli} `)}`),
    '',
  ].join('\n'));
}
