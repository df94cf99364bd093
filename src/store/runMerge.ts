import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../delta/contentHash.js';
import { FramelogError } from '../errors.js';
import { mergeFrame, type PendingDelta } from '../merge/mergeFrame.js';
import type { MergeRecord, QuarantineRef } from '../merge/records.js';
import { appendDurable, fsyncDir, writeFileDurable } from './durableFs.js';
import { archiveHash, scanInbox, type InboxScan } from './inbox.js';
import { lineHash } from './journalFile.js';
import { archiveDirName } from './layout.js';
import { clearIntent, journalSizes, writeIntent, type MergeIntent } from './mergeIntent.js';
import type { MergeSession } from './mergeSession.js';
import { writeSnapshot } from './snapshots.js';
import { appendJournalIndex } from './journalIndex.js';
import type { StoreContext } from './storeContext.js';

/** Options of one merge run. */
export interface MergeOptions {
  /** Close only frames ≤ this one (PROTOCOL §3 `--through N`). */
  through?: number;
  /** Close only these frames (watch mode picks the frames that are ready). Late deltas still join. */
  frames?: number[];
  /** The merger's clock (epoch ms); tests pin it. */
  now?: () => number;
  /**
   * Called after each merge is whole (record committed, snapshot written), before the next one
   * starts: a git transport commits "merge frame N" here, a remote one acknowledges.
   */
  onCommit?: (record: MergeRecord) => void;
}

/** Which frames a run closes, and which deltas each merge takes. */
export interface MergePlanStep {
  frame: number;
  deltas: InboxScan['valid'];
}

/**
 * Decides the merges for the pending deltas (PROTOCOL §3): one per pending frame above the last
 * closed one, ascending; late deltas join the first; only late deltas pending → one merge of the
 * frame after the last closed one (`--through N`: frame N).
 */
export function planMerges(lastFrame: number | null, valid: InboxScan['valid'], opts: MergeOptions = {}): MergePlanStep[] {
  const last = lastFrame ?? -1;
  if (opts.through !== undefined && opts.through <= last) {
    throw new FramelogError(`--through ${opts.through}: frame ${last} is already closed (give a frame above it)`, 'bad-through');
  }
  const late = valid.filter((v) => v.delta.frame <= last);
  const byFrame = new Map<number, InboxScan['valid']>();
  for (const v of valid) {
    const f = v.delta.frame;
    if (f <= last || (opts.through !== undefined && f > opts.through)) continue;
    if (opts.frames && !opts.frames.includes(f)) continue;
    let list = byFrame.get(f);
    if (!list) byFrame.set(f, (list = []));
    list.push(v);
  }
  const frames = [...byFrame.keys()].sort((a, b) => a - b);
  if (frames.length === 0) {
    if (late.length === 0) return [];
    return [{ frame: opts.through ?? last + 1, deltas: late }];
  }
  const steps = frames.map((frame) => ({ frame, deltas: byFrame.get(frame)! }));
  steps[0].deltas = [...late, ...steps[0].deltas];
  return steps;
}

function quarantineName(ctx: StoreContext, name: string, taken: Set<string>): string {
  let candidate = name;
  const dot = name.endsWith('.json') ? name.length - 5 : name.length;
  for (let i = 2; taken.has(candidate) || existsSync(join(ctx.layout.quarantine, candidate)); i++) {
    candidate = `${name.slice(0, dot)}~${i}${name.slice(dot)}`;
  }
  taken.add(candidate);
  return candidate;
}

/**
 * Commits one merge: intent, moves (inbox → archive, bad files → quarantine), conflict and event
 * lines, then the merge record (the commit point), then the snapshot. Every step is fsynced
 * before the next, so a crash at any point leaves either the old state or the new one.
 */
function commitMerge(ctx: StoreContext, session: MergeSession, step: MergePlanStep, bad: InboxScan['bad'], now: number): MergeRecord {
  const archiveRel = archiveDirName(step.frame);
  const pending: PendingDelta[] = step.deltas.map((v) => ({ delta: v.delta, file: `${archiveRel}/${v.name}` }));
  const taken = new Set<string>();
  const quarantined: QuarantineRef[] = [];
  const intent: MergeIntent = { frame: step.frame, moves: [], written: [], sizes: journalSizes(ctx) };
  for (const v of step.deltas) intent.moves.push({ from: `inbox/${v.name}`, to: `${archiveRel}/${v.name}` });
  for (const b of bad) {
    const q = quarantineName(ctx, b.name, taken);
    intent.moves.push({ from: `inbox/${b.name}`, to: `quarantine/${q}` });
    intent.written.push(`quarantine/${q}.why.json`);
    quarantined.push({ file: b.name, why: b.why });
  }
  const plan = ctx.plan;
  const outcome = mergeFrame(session.state, {
    frame: step.frame, deltas: pending, quarantined, keys: plan.keys, expectedWriters: plan.writers, nowMs: now, maxSkewMs: plan.maxSkewMs,
  });
  const conflictText = outcome.conflicts.map((c) => JSON.stringify(c) + '\n').join('');
  const eventText = outcome.events.map((e) => JSON.stringify(e) + '\n').join('');
  const record: MergeRecord = {
    ...outcome.record,
    conflicts_sha256: sha256Hex(conflictText),
    events_sha256: sha256Hex(eventText),
    plan_sha256: ctx.planSha256,
    archive_sha256: archiveHash(step.deltas),
    prev: session.head,
  };
  const line = JSON.stringify(record);
  {
    writeIntent(ctx, intent);
    const root = ctx.layout.root;
    if (step.deltas.length > 0) mkdirSync(join(root, archiveRel), { recursive: true });
    for (let i = 0; i < bad.length; i++) {
      const why = { file: bad[i].name, why: bad[i].why, merge: step.frame, utc: new Date(now).toISOString() };
      writeFileDurable(join(root, intent.written[i]), JSON.stringify(why) + '\n');
    }
    for (const m of intent.moves) renameSync(join(root, m.from), join(root, m.to));
    // The archive must hold the files before the record says they were applied: sync the new
    // folder and its entry in archive/. The inbox is not synced: a file that reappears there
    // after a power failure is a redelivered copy, which the next merge skips as a duplicate.
    if (step.deltas.length > 0) {
      fsyncDir(join(root, archiveRel));
      fsyncDir(ctx.layout.archive);
    }
    if (bad.length > 0) fsyncDir(ctx.layout.quarantine);
    const planLine = session.history.lineFor(ctx, step.frame);
    if (planLine) appendDurable(ctx.layout.plans, planLine);
    appendDurable(ctx.layout.conflicts, conflictText);
    appendDurable(ctx.layout.events, eventText);
    appendDurable(ctx.layout.merges, line + '\n'); // the commit point
  }
  appendJournalIndex(ctx, step.frame, intent.sizes.merges);
  session.head = lineHash(line);
  session.mergesSinceSnapshot++;
  if (session.mergesSinceSnapshot >= plan.snapshotEvery) {
    writeSnapshot(ctx.layout, session.state, session.head);
    session.mergesSinceSnapshot = 0;
  }
  clearIntent(ctx);
  return record;
}

/** Moves bad files to quarantine when no merge runs to list them. */
function quarantineAlone(ctx: StoreContext, bad: InboxScan['bad'], now: number): void {
  const taken = new Set<string>();
  for (const b of bad) {
    const q = quarantineName(ctx, b.name, taken);
    writeFileDurable(join(ctx.layout.quarantine, `${q}.why.json`), JSON.stringify({ file: b.name, why: b.why, merge: null, utc: new Date(now).toISOString() }) + '\n');
    renameSync(join(ctx.layout.inbox, b.name), join(ctx.layout.quarantine, q));
  }
  if (bad.length > 0) {
    fsyncDir(ctx.layout.quarantine);
    fsyncDir(ctx.layout.inbox);
  }
}

/**
 * Closes the pending frames (PROTOCOL §3) with the session's state, and returns the merge
 * records written. The caller holds the merger lock and has run recovery. When this throws, the
 * session's in-memory state may be ahead of the disk: drop it and load a new one (recovery then
 * undoes the half-done merge).
 */
export function runMerges(ctx: StoreContext, session: MergeSession, opts: MergeOptions = {}): MergeRecord[] {
  const now = opts.now ?? Date.now;
  const scan = scanInbox(ctx.layout, ctx.plan, session.inbox);
  const steps = planMerges(session.state.frame, scan.valid, opts);
  if (steps.length === 0) {
    quarantineAlone(ctx, scan.bad, now());
    return [];
  }
  const records: MergeRecord[] = [];
  for (let i = 0; i < steps.length; i++) {
    const record = commitMerge(ctx, session, steps[i], i === 0 ? scan.bad : [], now());
    records.push(record);
    opts.onCommit?.(record);
  }
  return records;
}
