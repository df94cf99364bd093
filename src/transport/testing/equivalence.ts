import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../../delta/canonicalJson.js';
import { sha256Hex } from '../../delta/contentHash.js';
import type { Plan } from '../../delta/plan.js';
import type { JsonValue } from '../../delta/types.js';
import { toState } from '../../merge/canonicalState.js';
import { queryConflicts, queryEvents, readLog } from '../../store/history/journalQueries.js';
import { readArchiveEntries } from '../../store/history/archive.js';
import { loadStateAt } from '../../store/history/stateAt.js';
import { iterateHistory } from '../../store/history/iterateHistory.js';
import { stateJson } from '../../merge/canonicalState.js';
import { openStoreContext, type StoreContext } from '../../store/storeContext.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import { runTransportMerger } from '../runTransportMerger.js';
import type { Transport } from '../transport.js';
import { shuffle, type Workload } from './workload.js';

/** A transport set up for a run: a fresh store, a transport per writer, and the merger's. */
export interface OpenedTransport {
  /** The merger's store folder (for git: the merger's working tree). */
  storeDir: string;
  writer(name: string): Promise<Transport>;
  merger: Transport;
  close(): Promise<void>;
}

/** How to set up one transport under test in a fresh folder. */
export interface TransportUnderTest {
  name: string;
  /**
   * The engine itself absorbs an identical copy put again after the first was merged (NATS
   * JetStream's `Nats-Msg-Id` window): it never reaches the merger, so the records list no such
   * duplicate. The harness then compares without those copies, and checks that each was reported
   * `duplicate: true` at put instead.
   */
  absorbsRedeliveries?: boolean;
  open(root: string, plan: Partial<Plan>, writers: string[]): Promise<OpenedTransport>;
}

/** What a store holds that must not depend on the transport (wall-clock fields and file names left out). */
export interface StoreDigest {
  records: unknown[];
  conflicts: unknown[];
  events: unknown[];
  /** SHA-256 of the canonical state JSON at every frame from 0 to the last merged one. */
  states: string[];
  /** Per merge: the sorted SHA-256s of the archived files' bytes. */
  archives: Record<number, string[]>;
  /** Sorted `(merge, why)` of the quarantined files. */
  quarantine: string[];
  verify: boolean;
}

/** The outcome for one transport. */
export interface TransportRun {
  name: string;
  seconds: number;
  putSeconds: number;
  mergeSeconds: number;
  merges: number;
  /** Puts the transport answered `duplicate: true`. */
  putDuplicates: number;
  absorbsRedeliveries: boolean;
  digest: StoreDigest;
}

export interface EquivalenceReport {
  runs: TransportRun[];
  equal: boolean;
  /** The first differences found, each naming the transport and the place. */
  differences: string[];
}

const WALL_CLOCK = new Set(['utc', 'prev', 'conflicts_sha256', 'archive_sha256']);

function stripRecord(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (WALL_CLOCK.has(k)) continue;
    out[k] = k === 'quarantined' ? (v as Array<{ why: string }>).map((q) => ({ why: q.why })).sort((a, b) => (a.why < b.why ? -1 : 1)) : v;
  }
  return out;
}

function stripConflict(c: Record<string, unknown>): Record<string, unknown> {
  const out = { ...c };
  delete out.file;
  if (Array.isArray(out.others)) out.others = (out.others as Array<{ sha256: string }>).map((o) => ({ sha256: o.sha256 }));
  return out;
}

/** Lets the event loop turn (a test worker must answer its runner while a long digest runs). */
const breathe = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Reads what must be the same whatever transport carried the deltas. The state at each frame is
 * kept as the SHA-256 of its canonical JSON (equal hashes, equal states), so digests of long runs
 * stay small; the work yields between frames.
 */
export async function digestStore(ctx: StoreContext): Promise<StoreDigest> {
  const log = readLog(ctx);
  const states: string[] = [];
  const last = log.at(-1)?.frame ?? -1;
  // One walk through history (the state after each merge), not a load per frame.
  let current = sha256Hex(canonicalJson(toState(loadStateAt(ctx, -1)) as unknown as JsonValue));
  let next = 0;
  for (const step of iterateHistory(ctx)) {
    for (; next < step.record.frame; next++) states.push(current);
    current = sha256Hex(stateJson(step.state));
    if (next <= last) states.push(current);
    next = step.record.frame + 1;
    await breathe();
  }
  const archives: Record<number, string[]> = {};
  for (const r of log) {
    archives[r.frame] = readArchiveEntries(ctx, r.frame).entries.map((e) => sha256Hex(e.bytes)).sort();
  }
  const quarantine = readdirSync(ctx.layout.quarantine)
    .filter((n) => n.endsWith('.why.json'))
    .map((n) => {
      const w = JSON.parse(readFileSync(join(ctx.layout.quarantine, n), 'utf8')) as { merge: number | null; why: string };
      return `${w.merge} ${w.why}`;
    })
    .sort();
  await breathe();
  const verified = verifyStore(ctx).ok;
  await breathe();
  return {
    records: log.map((r) => stripRecord(r as unknown as Record<string, unknown>)),
    conflicts: queryConflicts(ctx).map((c) => stripConflict(c as unknown as Record<string, unknown>)),
    events: queryEvents(ctx),
    states,
    archives,
    quarantine,
    verify: verified,
  };
}

/**
 * A digest without the identical copies that arrived after their first copy was merged: the
 * records' `duplicates` lists, and the archive entries whose bytes an earlier merge archived.
 */
export function withoutRedeliveries(d: StoreDigest): StoreDigest {
  const seen = new Set<string>();
  const archives: Record<number, string[]> = {};
  for (const frame of Object.keys(d.archives).map(Number).sort((a, b) => a - b)) {
    archives[frame] = d.archives[frame].filter((h) => !seen.has(h));
    for (const h of d.archives[frame]) seen.add(h);
  }
  return { ...d, archives, records: (d.records as Array<Record<string, unknown>>).map((r) => ({ ...r, duplicates: [] })) };
}

/** Names the first places where two digests differ (empty when they are equal). */
export function compareDigests(a: StoreDigest, b: StoreDigest, label: string, limit = 10): string[] {
  const out: string[] = [];
  const cmp = (what: string, x: unknown, y: unknown): void => {
    if (out.length >= limit) return;
    const sx = JSON.stringify(x), sy = JSON.stringify(y);
    if (sx !== sy) out.push(`${label}: ${what} differ:\n  ${sx?.slice(0, 400)}\n  ${sy?.slice(0, 400)}`);
  };
  cmp('number of merge records', a.records.length, b.records.length);
  for (let i = 0; i < Math.max(a.records.length, b.records.length); i++) cmp(`merge record #${i + 1}`, a.records[i], b.records[i]);
  cmp('number of conflict records', a.conflicts.length, b.conflicts.length);
  for (let i = 0; i < Math.max(a.conflicts.length, b.conflicts.length); i++) cmp(`conflict record #${i + 1}`, a.conflicts[i], b.conflicts[i]);
  cmp('event logs', a.events, b.events);
  cmp('number of frames with state', a.states.length, b.states.length);
  for (let f = 0; f < Math.max(a.states.length, b.states.length); f++) cmp(`states at frame ${f}`, a.states[f], b.states[f]);
  cmp('archives', a.archives, b.archives);
  cmp('quarantine', a.quarantine, b.quarantine);
  cmp('verify', a.verify, b.verify);
  return out;
}

/** Options of {@link runEquivalence}. */
export interface EquivalenceOptions {
  transports: TransportUnderTest[];
  workload: Workload;
  /** Where the stores go (default: a fresh temp folder, removed afterwards unless `keep`). */
  root?: string;
  keep?: boolean;
  /** Writers put concurrently within a round (default true): git pushes then race and rebase. */
  concurrentWriters?: boolean;
  /** Seed of the shuffles within each round (each transport gets its own order). */
  seed?: number;
  onProgress?: (transport: string, round: number) => void;
}

/** Feeds the workload through one transport: each round's deltas (shuffled) put by their writers, then one merge run. */
async function runOne(t: TransportUnderTest, index: number, o: EquivalenceOptions, root: string): Promise<TransportRun> {
  const started = performance.now();
  const dir = join(root, t.name);
  mkdirSync(dir, { recursive: true });
  const opened = await t.open(dir, o.workload.plan, o.workload.writers);
  let putMs = 0, mergeMs = 0, merges = 0, putDuplicates = 0;
  try {
    const writers = new Map<string, Transport>();
    for (const w of o.workload.writers) writers.set(w, await opened.writer(w));
    const ctx = openStoreContext(opened.storeDir);
    for (let r = 0; r < o.workload.rounds.length; r++) {
      const round = shuffle([...o.workload.rounds[r]], (o.seed ?? 7) * 1_000_003 + index * 7919 + r);
      const byWriter = new Map<string, Uint8Array[]>();
      for (const d of round) {
        let list = byWriter.get(d.writer);
        if (!list) byWriter.set(d.writer, (list = []));
        list.push(d.bytes);
      }
      const t0 = performance.now();
      const puts = [...byWriter].map(([w, bytes]) => async () => {
        for (const outcome of await writers.get(w)!.put(bytes)) if (outcome.duplicate) putDuplicates++;
        await breathe(); // a synchronous transport (fs) would otherwise hold the event loop for the whole run
      });
      if (o.concurrentWriters ?? true) await Promise.all(puts.map((p) => p()));
      else for (const p of puts) await p();
      const t1 = performance.now();
      const records = await runTransportMerger(ctx, opened.merger, { now: () => o.workload.nowMs });
      mergeMs += performance.now() - t1;
      putMs += t1 - t0;
      merges += records.length;
      o.onProgress?.(t.name, r);
      await breathe();
    }
    for (const w of writers.values()) await w.close();
    return { name: t.name, seconds: (performance.now() - started) / 1000, putSeconds: putMs / 1000, mergeSeconds: mergeMs / 1000, merges, putDuplicates, absorbsRedeliveries: t.absorbsRedeliveries ?? false, digest: await digestStore(openStoreContext(opened.storeDir)) };
  } finally {
    await opened.close();
  }
}

/**
 * The equivalence harness every transport reuses: the same deltas, in the same merge rounds
 * (shuffled within each round), through each transport; then the canonical state at every frame,
 * the merge records, the conflict and event journals, the archive's bytes and the quarantine
 * reasons are compared, leaving out only wall-clock fields (`utc`, `prev`) and file names.
 */
export async function runEquivalence(o: EquivalenceOptions): Promise<EquivalenceReport> {
  const root = o.root ?? mkdtempSync(join(tmpdir(), 'framelog-equivalence-'));
  try {
    const runs: TransportRun[] = [];
    for (let i = 0; i < o.transports.length; i++) runs.push(await runOne(o.transports[i], i, o, root));
    const base = runs[0];
    const differences = runs.slice(1).flatMap((r) => {
      if (!r.absorbsRedeliveries) return compareDigests(base.digest, r.digest, `${base.name} vs ${r.name}`);
      const label = `${base.name} vs ${r.name} (copies redelivered after their merge left out)`;
      const out = compareDigests(withoutRedeliveries(base.digest), withoutRedeliveries(r.digest), label);
      const recorded = (base.digest.records as Array<{ duplicates: unknown[] }>).reduce((n, x) => n + x.duplicates.length, 0);
      if (r.putDuplicates - base.putDuplicates !== recorded) out.push(`${label}: ${base.name} recorded ${recorded} redelivered copies as duplicates, but ${r.name} answered duplicate to ${r.putDuplicates - base.putDuplicates} more puts than ${base.name}`);
      return out;
    });
    return { runs, equal: differences.length === 0, differences };
  } finally {
    if (!o.root && !o.keep) rmSync(root, { recursive: true, force: true });
  }
}
