import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FramelogError } from '../errors.js';
import { describeProblem, parseDelta } from '../delta/validateDelta.js';
import { inboxName } from '../delta/identity.js';
import { DEFAULT_PLAN, parsePlan, urlHasPassword } from '../delta/plan.js';
import { resolveStoreDir, storeLayout } from '../store/layout.js';
import { initStore, openStoreContext } from '../store/storeContext.js';
import { initGitStore } from '../transport/git/gitStore.js';
import { openGitTransport } from '../transport/git/gitTransport.js';
import { dropTransportStore } from '../transport/dropTransportStore.js';
import { openTransport, planTransportSection, resolveTransportConfig } from '../transport/openTransport.js';
import type { Transport, TransportConfig } from '../transport/transport.js';
import { runTransportMerger } from '../transport/runTransportMerger.js';
import { registerGitDemo } from './gitDemo.js';
import { printMergeSummary } from './humanOutput.js';
import { action, parseCount, parseFrame, printNdjson, readDeltaInputs } from './output.js';

export interface TransportFlags { transport?: string; url?: string; store?: string; dir?: string; clone?: string; json?: boolean; requireDurable?: boolean }

/**
 * The transport config of a command: flags, environment, then the `transport` section of the
 * plan of the store at `--clone` / `--dir` (or $FRAMELOG_DIR, or .framelog) when there is one.
 */
export function transportConfigOf(o: TransportFlags): TransportConfig {
  const dir = resolveStoreDir(o.clone ?? o.dir);
  const plan = existsSync(storeLayout(dir).plan) ? openStoreContext(dir).plan.transport : undefined;
  return resolveTransportConfig(o, process.env, plan);
}


const TRANSPORT_HELP = `
Transports (--transport, or $FRAMELOG_TRANSPORT; --url, or $FRAMELOG_URL; --store, or $FRAMELOG_STORE;
or the "transport" section of the store's framelog.json, which framelog transport init writes):
  fs        the store folder itself (the default; --url, when given, is the store folder)
  git       a git remote: a bare repository on disk or any URL your git reaches; --dir is this machine's clone
  postgres  postgres://user@host:5432/db (default postgres://postgres@127.0.0.1:5432/postgres), --store NAME
  redis     redis://host:6379 (default redis://127.0.0.1:6379), --store NAME
  nats      nats://host:4222[,nats://…] (default nats://127.0.0.1:4222), --store NAME
  kafka     kafka://host:9092[,host:9092…] (default kafka://127.0.0.1:9092), --store NAME
  For postgres, redis, nats and kafka, --dir is the merger's own store (framelog transport init makes it);
  several mergers on other hosts may run: one holds the lease and merges, the others wait.`;

/** Adds `--transport` and `--url` to an existing command. */
function addTransportOptions(c: Command | undefined, extra?: (c: Command) => void): void {
  if (!c) return;
  c.option('--transport <name>', 'how deltas travel: fs (default), git, postgres, redis, nats or kafka')
    .option('--url <url>', 'where: the store folder (fs), the git remote (git), or the server (postgres, redis, nats, kafka)')
    .option('--store <name>', 'postgres, redis, nats, kafka: the store\'s name in the engine');
  extra?.(c);
  c.addHelpText('after', TRANSPORT_HELP);
}

/**
 * `framelog put`, through whichever transport (fs, the default, included): reads the deltas (one
 * reader for files and stdin), validates every one against the store's plan first (all or
 * nothing: the first bad one is named, nothing is sent), then sends them as received. For fs the
 * deltas land in the store's inbox (several in one batch file); a writer of postgres, redis or
 * nats has no store of its own, so the default plan (or the plan of `--dir`, when it names a
 * store) is used, and the merger checks them again.
 */
export async function putCommand(files: string[], o: TransportFlags): Promise<void> {
  transportConfigOf(o); // a bad transport is named before any input is read
  await putInputs(await readDeltaInputs(files), o);
}

/**
 * Puts deltas already read (the body of {@link putCommand}, which `resolve` shares): validated
 * first, all or nothing, then sent. `summary` words the line printed without `--json`.
 */
export async function putInputs(inputs: Array<{ bytes: Buffer; source: string }>, o: TransportFlags, summary?: (n: string) => string): Promise<void> {
  const config = transportConfigOf(o);
  let transport: Transport;
  let plan = DEFAULT_PLAN;
  if (config.transport === 'fs') {
    const dir = config.url && o.dir === undefined ? resolve(config.url) : resolveStoreDir(o.dir);
    plan = openStoreContext(dir).plan;
    transport = await openTransport({ ...config, url: undefined }, dir, { role: 'writer', checkDurabilityLater: true });
  } else if (config.transport === 'git') {
    const clone = o.clone ?? resolveStoreDir(o.dir);
    const first = parseDelta(inputs[0].bytes, DEFAULT_PLAN);
    transport = await openGitTransport({ url: config.url!, dir: clone, identity: first.ok ? first.delta.writer : undefined });
    plan = openStoreContext(clone).plan;
  } else {
    if (o.dir !== undefined) plan = openStoreContext(resolveStoreDir(o.dir)).plan;
    transport = await openTransport(config, '', { role: 'writer', checkDurabilityLater: true });
  }
  try {
    const checked = inputs.map((input) => {
      const check = parseDelta(input.bytes, plan);
      if (!check.ok) throw new FramelogError(`${input.source}: ${describeProblem(check.problem)}`, 'bad-delta');
      return { input, delta: check.delta };
    });
    // (After the inputs were judged, so a bad input gets its one line alone.) Durability is said where it is decided: an engine that can lose an acknowledged put says so
    // on every put, and --require-durable refuses to put through it.
    if (!transport.durability.onDiskWhenAcknowledged) {
      if (config.requireDurable) throw new FramelogError(`${config.transport}: ${transport.durability.summary}; nothing was put (${o.requireDurable ? '--require-durable' : 'transport.requireDurable in framelog.json'})`, 'not-durable');
      process.stderr.write(`framelog: ${config.transport}: ${transport.durability.summary}\n`);
    }
    const outcomes = await transport.put(inputs.map((i) => i.bytes));
    const results = checked.map(({ input, delta }, i) => {
      // fs names the inbox file that holds the delta (`inbox/BATCH#LINE` for a batch line).
      const [file, line] = config.transport === 'fs' ? outcomes[i].id.split('#') : [`inbox/${inboxName(delta)}`];
      return {
        source: input.source, file, ...(line ? { line: Number(line) } : {}), frame: delta.frame, writer: delta.writer, seq: delta.seq,
        sha256: delta.sha256, status: delta.status, written: !outcomes[i].duplicate, ...(config.transport === 'fs' ? {} : { transport: config.transport }),
      };
    });
    const dup = results.filter((r) => !r.written).length;
    const n = `${results.length} delta${results.length === 1 ? '' : 's'}`;
    if (o.json) printNdjson(results);
    else if (summary) process.stdout.write(summary(config.transport === 'fs' ? n : `${n} through ${config.transport}`) + '\n');
    else if (config.transport === 'fs') process.stdout.write(`put ${n}${dup ? ` (${dup} already pending)` : ''}\n`);
    else process.stdout.write(`put ${n} through ${config.transport} to ${config.url}${config.store ? ` (store ${config.store})` : ''}${dup ? ` (${dup} duplicate${dup === 1 ? '' : 's'})` : ''}\n`);
  } finally {
    await transport.close();
  }
}

/**
 * `framelog merge`, through whichever transport (fs, the default, included), with the one merger
 * loop ({@link runTransportMerger}): one-shot, or `--watch`. `--dir` is the merger's store (for
 * git its working tree, cloned from `--url` when missing; for fs `--url` may name the store).
 */
export async function mergeCommand(o: TransportFlags & { through?: string; watch?: boolean; frameTimeout?: string; leaseTtl?: string; keepPublished?: string }): Promise<void> {
  const config = transportConfigOf(o);
  if (o.keepPublished !== undefined && (config.transport === 'fs' || config.transport === 'git')) {
    throw new FramelogError(`--keep-published: ${config.transport} publishes no merges (only postgres, redis, nats and kafka do)`, 'bad-argument');
  }
  if (o.watch && o.through !== undefined) throw new FramelogError('--through and --watch do not go together', 'bad-argument');
  const dir = config.transport === 'fs' && config.url && o.dir === undefined ? resolve(config.url) : resolveStoreDir(o.dir);
  const ctx0 = config.transport === 'git' ? undefined : openStoreContext(dir); // the merger's own store must exist first
  const transport = await openTransport(config.transport === 'fs' ? { ...config, url: undefined } : config, dir, { role: 'merger' });
  if (!transport.durability.onDiskWhenAcknowledged) process.stderr.write(`framelog: ${config.transport}: ${transport.durability.summary}\n`);
  const ctx = ctx0 ?? openStoreContext(dir);
  const leaseTtlMs = o.leaseTtl === undefined ? undefined : parseFrame(o.leaseTtl, '--lease-ttl');
  const keepPublished = o.keepPublished === undefined ? undefined : parseKeep(o.keepPublished, '--keep-published');
  let waited = false;
  const onLease = (e: { waiting?: string; acquired?: { token: number; holder: string }; sync?: { imported: number; published: number; rewound: number[] } }): void => {
    // One line when the lease is taken in watch mode or after a wait; a one-shot merge that got it at once says nothing.
    if (e.acquired && (o.watch || waited)) process.stderr.write(`framelog: merger lease acquired (token ${e.acquired.token}, holder ${e.acquired.holder})\n`);
    else if (e.waiting && !waited) {
      waited = true;
      process.stderr.write(`framelog: waiting for the merger lease (held by ${e.waiting})\n`);
    }
    else if (e.sync && (e.sync.imported || e.sync.published || e.sync.rewound.length)) {
      process.stderr.write(`framelog: caught up with the published merges: ${e.sync.imported} applied here, ${e.sync.published} published, ${e.sync.rewound.length} taken back\n`);
    }
  };
  const print = (records: Parameters<typeof printMergeSummary>[0]): void => (o.json ? printNdjson(records) : printMergeSummary(records));
  try {
    if (o.watch) {
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const frameTimeoutMs = o.frameTimeout === undefined ? undefined : parseFrame(o.frameTimeout, '--frame-timeout');
      const writers = ctx.plan.writers.length > 0 ? `when ${ctx.plan.writers.join(', ')} have reported or` : 'when';
      process.stderr.write(`framelog: merge --watch on ${ctx.layout.root} (${config.transport}): each frame closes ${writers} ${frameTimeoutMs ?? ctx.plan.frameTimeoutMs} ms after its first delta; Ctrl-C stops\n`);
      await runTransportMerger(ctx, transport, { watch: true, signal: abort.signal, frameTimeoutMs, leaseTtlMs, keepPublished, onLease, onMerge: (r) => print([r]) });
      return;
    }
    const through = o.through === undefined ? undefined : parseFrame(o.through, '--through');
    const records = await runTransportMerger(ctx, transport, { through, leaseTtlMs, keepPublished, onLease });
    if (o.json && records.length === 0) process.stderr.write('framelog: nothing to merge\n'); // stdout stays NDJSON: no record
    print(records);
  } finally {
    await transport.close();
  }
}

/** Registers the transport options of `put` and `merge`, `framelog transport init`, and `framelog demo git`. */
export function registerTransportCommands(program: Command): void {
  const find = (name: string): Command | undefined => program.commands.find((c) => c.name() === name);
  addTransportOptions(find('put'), (c) => c
    .option('--clone <dir>', 'git: this writer\'s clone (default: --dir); cloned from --url when missing')
    .option('--require-durable', 'refuse to put through an engine that can lose an acknowledged put (e.g. Redis without appendfsync always)')
    .addHelpText('after', '  framelog put --transport git --url /srv/fleet.git --clone ~/fleet-w3 delta.json\n  FRAMELOG_TRANSPORT=git FRAMELOG_URL=git@host:fleet.git framelog put --clone w3 -  < deltas.ndjson'));
  addTransportOptions(find('resolve'), (c) => c.option('--clone <dir>', 'git: this writer\'s clone (default: --dir)'));
  addTransportOptions(find('merge'), (c) => c
    .option('--lease-ttl <ms>', 'postgres, redis, nats, kafka: how long the merger lease outlives a merger that stopped (default 10000)')
    .option('--keep-published <n>', 'postgres, redis, nats, kafka: keep only the last n published merges in the engine, trimming older ones as it merges (default: all; a host further behind is seeded with framelog copy)')
    .addHelpText('after', '  framelog merge --transport git --url /srv/fleet.git --dir merger\n  framelog merge --transport git --url /srv/fleet.git --dir merger --watch\n  framelog merge --transport redis --store fleet --dir merger --watch     # on two hosts: one merges, one waits'));

  const t = program.command('transport').description('set up a store that deltas reach through a transport');
  t.command('init')
    .description('create a store behind a transport: for git, a bare repository (when --url is a new local path) and the merger\'s clone at --dir; for postgres, redis, nats and kafka, the merger\'s own store at --dir (run it on every merger host, with the same options)')
    .option('--transport <name>', 'git, postgres, redis, nats or kafka', 'git')
    .option('--url <url>', 'the git remote (a local path is created as a bare repository), or the server')
    .option('--store <name>', 'postgres, redis, nats, kafka: the store\'s name in the engine')
    .option('--dir <dir>', 'the merger\'s working tree (default: $FRAMELOG_DIR or .framelog)')
    .option('--writers <list>', 'comma-separated writers expected every frame')
    .option('--frame-timeout <ms>', 'the plan\'s frameTimeoutMs')
    .option('--require-durable', 'record in framelog.json that this store refuses an engine that can lose an acknowledged put: every put, writer and merger of it checks')
    .option('--replicas <n>', 'nats, kafka: copies of every stream, bucket or topic of the store (1 to 5; 3 on a cluster of 3), recorded in framelog.json for every merger and writer (default: $FRAMELOG_NATS_REPLICAS / $FRAMELOG_KAFKA_REPLICAS, else the engine\'s default)')
    .option('--json', 'print what was made as JSON')
    .addHelpText('after', '\nExamples:\n  framelog transport init --transport git --url /srv/fleet.git --dir merger --writers w1,w2\n  framelog transport init --transport nats --url nats://n1:4222,nats://n2:4222 --store fleet --replicas 3 --dir merger')
    .action(action(async (o: { transport: string; url?: string; store?: string; dir?: string; writers?: string; frameTimeout?: string; replicas?: string; requireDurable?: boolean; json?: boolean }) => {
      const config = resolveTransportConfig({ transport: o.transport, url: o.url, store: o.store, requireDurable: o.requireDurable === true, ...(o.replicas !== undefined ? { replicas: parseCount(o.replicas, '--replicas', 1) } : {}) });
      if (config.transport === 'fs') throw new FramelogError('transport init: for fs, run framelog init', 'bad-argument');
      const dir = resolveStoreDir(o.dir);
      const plan = {
        ...(o.writers ? { writers: o.writers.split(',').filter(Boolean) } : {}),
        ...(o.frameTimeout ? { frameTimeoutMs: parseFrame(o.frameTimeout, '--frame-timeout') } : {}),
        // Later commands on this store (and, for git, every clone) find the transport here.
        transport: planTransportSection(config),
      };
      if (config.url && urlHasPassword(config.url)) process.stderr.write('framelog: the password of --url is not written to framelog.json (a shared file): give it again through FRAMELOG_URL or the engine\'s own configuration\n');
      if (config.transport !== 'git') {
        // The engine first: a wrong URL or an engine that refuses leaves no store folder behind
        // (a second try with the right URL would find "already a framelog store").
        if (existsSync(storeLayout(dir).plan)) throw new FramelogError(`${dir}: already a framelog store (framelog.json exists)`, 'exists');
        parsePlan(plan, `${dir}/framelog.json`);
        const transport = await openTransport(config, dir, { role: 'merger' }); // creates the store's tables, streams or keys
        await transport.close();
        initStore(dir, plan);
        if (!transport.durability.onDiskWhenAcknowledged) process.stderr.write(`framelog: ${config.transport}: ${transport.durability.summary}\n`);
        if (o.json) process.stdout.write(JSON.stringify({ transport: config.transport, url: config.url, store: config.store, ...(config.replicas !== undefined ? { replicas: config.replicas } : {}), dir }) + '\n');
        else process.stdout.write(`initialised framelog store ${config.store} in ${config.transport} at ${config.url}, merger store at ${dir}\n  writers: framelog put --transport ${config.transport} --url ${config.url} --store ${config.store} FILE\n  merger:  framelog merge --dir ${dir} [--watch]   (its framelog.json names the transport)\n`);
        return;
      }
      await initGitStore({ url: config.url!, dir, plan });
      if (o.json) process.stdout.write(JSON.stringify({ transport: 'git', url: config.url, dir }) + '\n');
      else process.stdout.write(`initialised framelog store at ${dir}, pushed to ${config.url}\n  writers: framelog put --transport git --url ${config.url} --clone DIR FILE   (then --clone DIR alone: the clone's framelog.json names the remote)\n  merger:  framelog merge --dir ${dir} [--watch]\n`);
    }));

  t.command('drop')
    .description('remove everything a store keeps in postgres, redis, nats or kafka (pending deltas, published merges, the lease); merger stores on disk stay')
    .option('--transport <name>', 'postgres, redis, nats or kafka')
    .option('--url <url>', 'the server')
    .option('--store <name>', 'the store\'s name in the engine')
    .addHelpText('after', '\nExamples:\n  framelog transport drop --transport redis --url redis://127.0.0.1:6379 --store fleet')
    .option('--dir <dir>', 'a store whose framelog.json names the transport (default: $FRAMELOG_DIR or .framelog, when there)')
    .action(action(async (o: { transport?: string; url?: string; store?: string; dir?: string }) => {
      const config = transportConfigOf(o);
      if (config.transport === 'fs' || config.transport === 'git') throw new FramelogError(`transport drop: ${config.transport} keeps nothing outside the store folder and its remote`, 'bad-argument');
      await dropTransportStore(config);
      process.stdout.write(`dropped store ${config.store} from ${config.transport} at ${config.url}\n`);
    }));

  t.command('trim')
    .description('delete old published merges from postgres, redis, nats or kafka, keeping the last --keep (the merger hosts\' stores keep the whole history; a host further behind than what is kept is seeded with framelog copy)')
    .option('--transport <name>', 'postgres, redis, nats or kafka')
    .option('--url <url>', 'the server')
    .option('--store <name>', 'the store\'s name in the engine')
    .requiredOption('--keep <n>', 'how many of the newest published merges to keep (at least 1)')
    .option('--json', 'print what was done as JSON')
    .addHelpText('after', '\nExamples:\n  framelog transport trim --transport redis --url redis://127.0.0.1:6379 --store fleet --keep 1000')
    .option('--dir <dir>', 'a store whose framelog.json names the transport (default: $FRAMELOG_DIR or .framelog, when there)')
    .action(action(async (o: { transport?: string; url?: string; store?: string; dir?: string; keep: string; json?: boolean }) => {
      const config = transportConfigOf(o);
      if (config.transport === 'fs' || config.transport === 'git') throw new FramelogError(`transport trim: ${config.transport} publishes no merges (its history is the store itself)`, 'bad-argument');
      const keep = parseKeep(o.keep, '--keep');
      const transport = await openTransport(config, '', { role: 'writer' });
      try {
        const failover = transport.failover!; // postgres, redis, nats and kafka all have it
        const head = await failover.publishedHead();
        const removed = head ? await failover.trimMerges(head.index - keep + 1) : 0;
        const result = { transport: config.transport, store: config.store, head: head?.index ?? 0, removed, keptFrom: head ? Math.max(1, head.index - keep + 1) : null };
        if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
        else process.stdout.write(head ? `trimmed ${removed} published merge${removed === 1 ? '' : 's'} of store ${config.store}; kept merges ${result.keptFrom}–${head.index}\n` : `store ${config.store} has no published merges\n`);
      } finally {
        await transport.close();
      }
    }));

  registerGitDemo(program);
}

/** A count given on the command line: a whole number ≥ 1. */
function parseKeep(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new FramelogError(`${flag}: expected a whole number ≥ 1, got ${JSON.stringify(text)}`, 'bad-argument');
  return n;
}
