import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FramelogError } from '../errors.js';
import { describeProblem, parseDelta } from '../delta/validateDelta.js';
import { inboxName } from '../delta/identity.js';
import { DEFAULT_PLAN } from '../delta/plan.js';
import { resolveStoreDir } from '../store/layout.js';
import { openStoreContext } from '../store/storeContext.js';
import { initGitStore } from '../transport/git/gitStore.js';
import { openGitTransport } from '../transport/git/gitTransport.js';
import { resolveTransportConfig } from '../transport/openTransport.js';
import { runTransportMerger } from '../transport/runTransportMerger.js';
import { registerGitDemo } from './gitDemo.js';
import { printMergeSummary } from './humanOutput.js';
import { action, parseFrame, printNdjson, readStdin, splitLines } from './output.js';

interface TransportFlags { transport?: string; url?: string; dir?: string; clone?: string; json?: boolean }

const TRANSPORT_HELP = '\nTransports (--transport, or $FRAMELOG_TRANSPORT; --url, or $FRAMELOG_URL):\n  fs   the store folder itself (the default; --url, when given, is the store folder)\n  git  a git remote: a bare repository on disk or any URL your git reaches; --dir is this machine\'s clone';

/** Adds `--transport` and `--url` to an existing command. */
function addTransportOptions(c: Command | undefined, extra?: (c: Command) => void): void {
  if (!c) return;
  c.option('--transport <name>', 'how deltas travel: fs (default) or git')
    .option('--url <url>', 'where: the store folder (fs), or the git remote (git)');
  extra?.(c);
  c.addHelpText('after', TRANSPORT_HELP);
}

/**
 * `put` through a transport other than fs: validates every delta first (all or nothing, as
 * `framelog put`), then sends them as received. Returns false for fs, leaving the core command to
 * it (with `--url` as the store folder).
 */
export async function putThroughTransport(files: string[], o: TransportFlags): Promise<boolean> {
  const config = resolveTransportConfig(o);
  if (config.transport === 'fs') {
    if (config.url && o.dir === undefined) o.dir = config.url;
    return false;
  }
  const clone = o.clone ?? resolveStoreDir(o.dir);
  const inputs: Array<{ bytes: Buffer; source: string }> = [];
  for (const f of files) {
    if (f === '-') for (const { line, bytes } of splitLines(await readStdin())) inputs.push({ bytes, source: `stdin:${line}` });
    else {
      try {
        inputs.push({ bytes: readFileSync(f), source: f });
      } catch (e) {
        throw new FramelogError(`${f}: cannot read (${(e as NodeJS.ErrnoException).code})`, 'bad-input');
      }
    }
  }
  if (inputs.length === 0) throw new FramelogError('put: no deltas given', 'bad-input');
  const first = parseDelta(inputs[0].bytes, DEFAULT_PLAN);
  const transport = await openGitTransport({ url: config.url!, dir: clone, identity: first.ok ? first.delta.writer : undefined });
  try {
    const plan = openStoreContext(clone).plan;
    const checked = inputs.map((input) => {
      const check = parseDelta(input.bytes, plan);
      if (!check.ok) throw new FramelogError(`${input.source}: ${describeProblem(check.problem)}`, 'bad-delta');
      return { input, delta: check.delta };
    });
    const outcomes = await transport.put(inputs.map((i) => i.bytes));
    const results = checked.map(({ input, delta }, i) => ({
      source: input.source, file: `inbox/${inboxName(delta)}`, frame: delta.frame, writer: delta.writer, seq: delta.seq,
      sha256: delta.sha256, status: delta.status, written: !outcomes[i].duplicate, transport: 'git',
    }));
    if (o.json) printNdjson(results);
    else {
      const dup = results.filter((r) => !r.written).length;
      process.stdout.write(`put ${results.length} delta${results.length === 1 ? '' : 's'} through git to ${config.url}${dup ? ` (${dup} duplicate${dup === 1 ? '' : 's'})` : ''}\n`);
    }
  } finally {
    await transport.close();
  }
  return true;
}

/**
 * `merge` through a transport other than fs: `--dir` is the merger's working tree (cloned from
 * `--url` when missing). One-shot, or `--watch`. Returns false for fs (the core command runs).
 */
export async function mergeThroughTransport(o: TransportFlags & { through?: string; watch?: boolean; frameTimeout?: string }): Promise<boolean> {
  const config = resolveTransportConfig(o);
  if (config.transport === 'fs') {
    if (config.url && o.dir === undefined) o.dir = config.url;
    return false;
  }
  if (o.watch && o.through !== undefined) throw new FramelogError('--through and --watch do not go together', 'bad-argument');
  const dir = resolveStoreDir(o.dir);
  const transport = await openGitTransport({ url: config.url!, dir, role: 'merger' });
  const ctx = openStoreContext(dir);
  const print = (records: Parameters<typeof printMergeSummary>[0]): void => (o.json ? printNdjson(records) : printMergeSummary(records));
  try {
    if (o.watch) {
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const frameTimeoutMs = o.frameTimeout === undefined ? undefined : parseFrame(o.frameTimeout, '--frame-timeout');
      await runTransportMerger(ctx, transport, { watch: true, signal: abort.signal, frameTimeoutMs, onMerge: (r) => print([r]) });
      return true;
    }
    const through = o.through === undefined ? undefined : parseFrame(o.through, '--through');
    print(await runTransportMerger(ctx, transport, { through }));
  } finally {
    await transport.close();
  }
  return true;
}

/** Registers the transport options of `put` and `merge`, `framelog transport init`, and `framelog demo git`. */
export function registerTransportCommands(program: Command): void {
  const find = (name: string): Command | undefined => program.commands.find((c) => c.name() === name);
  addTransportOptions(find('put'), (c) => c
    .option('--clone <dir>', 'git: this writer\'s clone (default: --dir); cloned from --url when missing')
    .addHelpText('after', '\nExamples:\n  framelog put --transport git --url /srv/fleet.git --clone ~/fleet-w3 delta.json\n  FRAMELOG_TRANSPORT=git FRAMELOG_URL=git@host:fleet.git framelog put --clone w3 -  < deltas.ndjson'));
  addTransportOptions(find('merge'), (c) => c
    .addHelpText('after', '\nExamples:\n  framelog merge --transport git --url /srv/fleet.git --dir merger\n  framelog merge --transport git --url /srv/fleet.git --dir merger --watch'));

  const t = program.command('transport').description('set up a store that deltas reach through a transport');
  t.command('init')
    .description('create a store behind a transport: for git, a bare repository (when --url is a new local path) and the merger\'s clone at --dir')
    .option('--transport <name>', 'git', 'git')
    .option('--url <url>', 'the git remote (a local path is created as a bare repository)')
    .option('--dir <dir>', 'the merger\'s working tree (default: $FRAMELOG_DIR or .framelog)')
    .option('--writers <list>', 'comma-separated writers expected every frame')
    .option('--frame-timeout <ms>', 'the plan\'s frameTimeoutMs')
    .option('--json', 'print what was made as JSON')
    .addHelpText('after', '\nExamples:\n  framelog transport init --transport git --url /srv/fleet.git --dir merger --writers w1,w2')
    .action(action(async (o: { transport: string; url?: string; dir?: string; writers?: string; frameTimeout?: string; json?: boolean }) => {
      const config = resolveTransportConfig({ transport: o.transport, url: o.url });
      if (config.transport !== 'git') throw new FramelogError('transport init: for fs, run framelog init', 'bad-argument');
      const dir = resolveStoreDir(o.dir);
      const plan = {
        ...(o.writers ? { writers: o.writers.split(',').filter(Boolean) } : {}),
        ...(o.frameTimeout ? { frameTimeoutMs: parseFrame(o.frameTimeout, '--frame-timeout') } : {}),
      };
      await initGitStore({ url: config.url!, dir, plan });
      if (o.json) process.stdout.write(JSON.stringify({ transport: 'git', url: config.url, dir }) + '\n');
      else process.stdout.write(`initialised framelog store at ${dir}, pushed to ${config.url}\n  writers: framelog put --transport git --url ${config.url} --clone DIR FILE\n  merger:  framelog merge --transport git --url ${config.url} --dir ${dir} [--watch]\n`);
    }));

  registerGitDemo(program);
}
