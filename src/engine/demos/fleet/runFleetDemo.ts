import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MergeRecord } from '../../../merge/records.js';
import { openMergerOn } from '../../../store/openStore.js';
import { readLog } from '../../../store/history/journalQueries.js';
import { loadStateAt } from '../../../store/history/stateAt.js';
import { toState } from '../../../merge/canonicalState.js';
import { initStore, type StoreContext } from '../../../store/storeContext.js';
import { verifyStore } from '../../../store/history/verifyStore.js';
import { createFsTransport } from '../../../transport/fs/fsTransport.js';
import { runTransportMerger } from '../../../transport/runTransportMerger.js';
import { openStreamAppender } from '../../../stream/openStreamAppender.js';
import { scanStream } from '../../../stream/scanStream.js';
import { createWriter } from '../../../writer/createWriter.js';
import { compiledPath } from '../../shard/compiledPath.js';
import { storeFingerprint } from '../../run/storeFingerprint.js';
import { finalStateSha256, freshDemoDir, markDemoDir, mergeProgress, type DemoOptions, type DemoSummary } from '../demoSupport.js';
import { agentName, FLEET_POLICIES, TASKS, type FleetAgentConfig } from './fleetWorkload.js';
import type { PolicyMap } from '../../../delta/plan.js';
import { queryConflicts } from '../../../store/history/journalQueries.js';
import { lastMergedFrame } from '../../../store/history/lastMergedFrame.js';
import { writeFileSync } from 'node:fs';
import { cliInvocation } from '../demoSupport.js';
import { runNaiveComparison, type NaiveReport } from './naiveComparison.js';

const MAIN = new URL('../../../cli/main.js', import.meta.url);
const FRAME_FILE = /^frame-(\d+)\.(.+)\.(\d+)\.[0-9a-f]+\.json$/;

/** The last frame for which `agent` has a delta in the journal or the inbox. */
function lastFrameOf(ctx: StoreContext, agent: string): number {
  let last = 0;
  for (const r of readLog(ctx)) for (const a of r.applied) if (a.writer === agent) last = Math.max(last, a.frame);
  for (const n of readdirSync(ctx.layout.inbox)) {
    const m = FRAME_FILE.exec(n);
    if (m && m[2] === agent) last = Math.max(last, Number(m[1]));
  }
  return last;
}

/**
 * The supervisor: every third frame it assigns a task to an agent, as writer `supervisor`. The
 * plan's priority policy makes its assignment win over the agents' own claims of that task. It
 * never runs ahead of the fleet: it writes for frame f once frame f − 1 is merged (a delta for a
 * frame no agent reached yet would let the merger close that frame first, and make the agents'
 * earlier frames late); its delta may then arrive late itself, and still wins.
 */
async function supervise(ctx: StoreContext, o: DemoOptions, startAt: number, periodMs: number, stop: AbortSignal): Promise<void> {
  const writer = createWriter({ dir: o.dir, writer: 'supervisor' });
  for (let f = 3; f <= o.frames && !stop.aborted; f += 3) {
    await new Promise((r) => setTimeout(r, Math.max(0, startAt + (f - 1) * periodMs + periodMs / 2 - Date.now())));
    while (!stop.aborted && (lastMergedFrame(ctx) ?? 0) < f - 1) await new Promise((r) => setTimeout(r, 20));
    if (stop.aborted) return;
    await writer.run(f, (d) => void d.set('tasks', `task-${f % TASKS}`, 'owner', agentName((f / 3) % o.workers)));
  }
}

/** Counts records of `stream` by their `status` (or `decision`). */
async function countBy(dir: string, stream: string, field: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    for await (const r of scanStream(join(dir, 'streams', `${stream}.ndjson`))) {
      const k = String(r.record[field]);
      out[k] = (out[k] ?? 0) + 1;
    }
  } catch {
    // no such stream yet
  }
  return out;
}

/**
 * `framelog demo fleet`: W agent processes work through `size` items over `frames` frames under a
 * watch-mode merger (wall clock: this is a live fleet, not a replayable simulation). Crashed agents
 * get a fallback delta and a restart; slow deltas arrive late. Then the same acknowledged work
 * goes through the naive read-modify-write shared file, and the report compares what each lost.
 */
export async function runFleetDemo(o: DemoOptions): Promise<{ summary: DemoSummary; lines: string[] }> {
  freshDemoDir(o.dir);
  const started = Date.now();
  const names = Array.from({ length: o.workers }, (_, i) => agentName(i));
  const periodMs = 150, frameTimeoutMs = 300;
  const ctx = initStore(o.dir, { writers: names, frameTimeoutMs, snapshotEvery: 10, policies: structuredClone(FLEET_POLICIES) as unknown as PolicyMap });
  markDemoDir(o.dir);
  const register = openStreamAppender(o.dir, 'register', { durability: 'batch' });
  const progress = mergeProgress('fleet', o.frames, o.json);
  let crashes = 0, failures = 0;
  try {
    const abort = new AbortController();
    const watching = runTransportMerger(ctx, createFsTransport(ctx.layout.root), { watch: true, signal: abort.signal, onMerge: progress.onMerge, pollMs: 50 });
    const startAt = Date.now() + 500;
    const base = { dir: resolve(o.dir), agents: o.workers, frames: o.frames, items: o.size, seed: String(o.seed), startAt, periodMs, frameTimeoutMs };
    const running = new Set<Promise<void>>();
    const launch = (index: number, from: number, mayCrash: boolean): void => {
      const cfg: FleetAgentConfig = { ...base, index, from, mayCrash };
      const child: ChildProcess = spawn(process.execPath, [compiledPath(MAIN), '_fleet-agent', JSON.stringify(cfg)], { stdio: ['ignore', 'ignore', 'inherit'] });
      const done = new Promise<void>((res) => child.on('exit', (code, signal) => {
        void (async () => {
          if (signal === 'SIGKILL') {
            crashes++;
            const frame = lastFrameOf(ctx, agentName(index)) + 1;
            if (frame <= o.frames) {
              // The supervisor speaks for the dead agent: it ran, and has nothing to contribute.
              await createWriter({ dir: o.dir, writer: agentName(index) }).fallback(frame, { meta: { reason: 'agent process killed (SIGKILL) mid-frame' } });
              await register.append({ type: 'lifecycle', agent: agentName(index), event: 'crash', frame, signal });
              if (frame < o.frames) launch(index, frame + 1, false);
            }
          } else if (code !== 0) failures++;
          res();
        })();
      }));
      running.add(done);
      void done.then(() => running.delete(done));
    };
    names.forEach((_, i) => launch(i, 1, true));
    const supervisorStop = new AbortController();
    const supervising = supervise(ctx, o, startAt, periodMs, supervisorStop.signal);
    const guard = setTimeout(() => abort.abort(), 10 * 60_000);
    while (running.size > 0) await Promise.all([...running]);
    // Every agent is done: the supervisor finishes what the merged frames allow, then stops.
    await Promise.race([supervising, new Promise((r) => setTimeout(r, frameTimeoutMs * 3))]);
    supervisorStop.abort();
    await supervising;
    clearTimeout(guard);
    await new Promise((r) => setTimeout(r, frameTimeoutMs + 150)); // let the merger close complete frames
    abort.abort();
    await watching;
    const merger = openMergerOn(ctx);
    try {
      for (const r of merger.merge() as MergeRecord[]) progress.onMerge(r);
    } finally {
      merger.close();
    }
  } finally {
    progress.stop(); // a bar left running would keep the process alive
  }
  await register.close();
  const state = toState(loadStateAt(ctx));
  const receipts = await countBy(o.dir, 'receipts', 'status');
  const gate = await countBy(o.dir, 'audit', 'decision');
  const acknowledged = receipts.ok ?? 0;
  const merged = state.counters.items_done ?? 0;
  mkdirSync(join(o.dir, 'views', 'fleet'), { recursive: true });
  const naive: NaiveReport = await runNaiveComparison(join(o.dir, 'views', 'fleet', 'naive-state.json'), o.dir, o.workers);
  const report = verifyStore(ctx);
  const figures = {
    agents: o.workers, items: o.size, acknowledged, merged, framelog_lost: acknowledged - merged, results: state.items.results?.length ?? 0,
    naive_expected: naive.expected, naive_final: naive.final, naive_lost: naive.lost, crashes, agent_failures: failures,
    rejected: gate.reject ?? 0, model_errors: receipts.error ?? 0,
  };
  const summary: DemoSummary = {
    demo: 'fleet', dir: o.dir, frames: o.frames, shards: o.workers, workers: o.workers, size: o.size, seed: o.seed,
    seconds: (Date.now() - started) / 1000, ...progress.totals, state_sha256: finalStateSha256(o.dir), store_sha256: storeFingerprint(o.dir).sha256, verify: report.ok && failures === 0,
    exports: { receipts: join(o.dir, 'streams', 'receipts.ndjson'), audit: join(o.dir, 'streams', 'audit.ndjson'), register: join(o.dir, 'streams', 'register.ndjson'), naive: naive.file },
    figures,
  };
  // What the policies decided, and a plan without them for `framelog whatif`.
  const open = queryConflicts(ctx, { open: true });
  const byPolicy = (p: string) => open.filter((c) => c.kind === 'field' && (typeof c.policy === 'string' ? c.policy : 'priority') === p).length;
  const lwwPlan = join(o.dir, 'views', 'fleet', 'plan-without-policies.json');
  const { policies: _dropped, ...plain } = ctx.plan;
  writeFileSync(lwwPlan, JSON.stringify(plain, null, 2) + '\n');
  const claim = open.find((c) => c.kind === 'field' && c.type === 'tasks');
  const cli = cliInvocation();
  Object.assign(figures, { open_conflicts: open.length });
  const lines = [
    `policies    tasks.owner: priority (supervisor, then agents); board.peak.load_ms: max — ${byPolicy('priority')} claims lost to the priority, ${byPolicy('max')} load reports below the peak (open conflicts)`,
    `try         ${cli} conflicts --open --type tasks --dir ${o.dir}`,
    ...(claim && claim.kind === 'field' ? [`            ${cli} resolve ${claim.conflict} --winner ${claim.losers[0].writer} --as human.you --dir ${o.dir} && ${cli} merge --dir ${o.dir}`] : []),
    `            ${cli} whatif --plan ${lwwPlan} --dir ${o.dir}     # the same run without the policies`,
    `agents      ${o.workers} processes, ${crashes} killed by SIGKILL mid-frame (fallback written, agent restarted)`,
    `work        ${acknowledged} items acknowledged (receipts), ${figures.rejected} rejected by the gate, ${figures.model_errors} model errors`,
    `naive file  ${naive.expected} updates through read-modify-write of one state.json by ${o.workers} processes: ${naive.final} survived, LOST ${naive.lost}`,
    `framelog    ${acknowledged} acknowledged, ${merged} merged: lost ${acknowledged - merged}`,
  ];
  return { summary, lines };
}
