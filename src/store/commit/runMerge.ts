import { existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../delta/contentHash.js';
import { FramelogError } from '../../errors.js';
import { mergeFrame, type PendingDelta } from '../../merge/mergeFrame.js';
import { policiesOf } from '../../merge/fieldPolicies.js';
import { unknownResolution } from '../../merge/resolutions.js';
import type { MergeRecord, QuarantineRef } from '../../merge/records.js';
import { stateJson } from '../../merge/canonicalState.js';
import { appendDurable, createFileDurable, fsyncDir, writeFileDurable, writeNewFileSynced } from '../../durable/durableFs.js';
import { encodeCommitLine, encodeSegment, segmentName } from '../history/archiveSegment.js';
import { archiveBytes, checkpointDue, markCheckpoint, thinSnapshots } from './checkpoints.js';
import { archiveHash, scanInbox, type InboxBad, type InboxScan } from '../inbox/inbox.js';
import { lineHash } from '../history/journalFile.js';
import { clearIntent, journalSizes, writeIntent, type MergeIntent } from './mergeIntent.js';
import { appendLagging, lagMarkerStands, markLag, settleJournals, SETTLE_BYTES, SETTLE_EVERY } from './lazyJournals.js';
import type { MergeSession } from './mergeSession.js';
import { writeSnapshot } from '../history/snapshots.js';
import { appendJournalIndex } from '../history/journalIndex.js';
import type { StoreContext } from '../storeContext.js';

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
 * What a run of merges knows about the batches it takes apart: the entries of each batch not yet
 * committed, and the entries that now wait in files of their own.
 */
interface RunBook {
  /** Batch file → names of its entries (valid and bad) no merge of this run has committed yet. */
  waiting: Map<string, Set<string>>;
  /** Entry name → the inbox file that holds it now (written out of its batch by an earlier step). */
  ownFile: Map<string, string>;
  /** Entry name → its bytes (to write one out of its batch). */
  bytesOf: Map<string, Uint8Array>;
}

function bookOf(scan: InboxScan): RunBook {
  const book: RunBook = { waiting: new Map(), ownFile: new Map(), bytesOf: new Map() };
  for (const e of [...scan.valid, ...scan.bad]) {
    if (e.source === e.name) continue;
    let set = book.waiting.get(e.source);
    if (!set) book.waiting.set(e.source, (set = new Set()));
    set.add(e.name);
  }
  for (const v of scan.valid) if (v.source !== v.name) book.bytesOf.set(v.name, v.bytes);
  return book;
}

/**
 * Commits one merge. Most merges only archive: their segment (every delta of the merge, then a
 * commit line holding the merge record and its journal lines) is written and synced, which is
 * the commit; the journal lines follow without a sync of their own (`lazyJournals.ts`). A merge
 * that quarantines or leaves batch lines to wait writes an intent first, then the segment, the
 * quarantined files, the waiting lines as files of their own, the conflict and event lines and
 * the merge record (its commit point), each synced before the next. Then the taken inbox files
 * are removed and, at a checkpoint, the snapshot is written. A crash at any point leaves the old
 * state or the new one.
 */
function commitMerge(ctx: StoreContext, session: MergeSession, step: MergePlanStep, bad: InboxScan['bad'], now: number, book: RunBook): MergeRecord {
  const root = ctx.layout.root;
  // A resolution naming a conflict the journal does not hold is quarantined (PROTOCOL §2a).
  const unresolvable: InboxBad[] = [];
  for (const v of step.deltas) {
    const why = unknownResolution(v.delta, session.state.conflictCounts);
    if (why) unresolvable.push({ name: v.name, source: v.source, why, ...(v.source !== v.name ? { bytes: v.bytes } : {}) });
  }
  if (unresolvable.length > 0) {
    const out = new Set(unresolvable.map((b) => b.name));
    step = { ...step, deltas: step.deltas.filter((v) => !out.has(v.name)) };
    bad = [...bad, ...unresolvable];
  }
  const segRel = segmentName(step.frame);
  const entries = [...step.deltas].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const pending: PendingDelta[] = entries.map((v) => ({ delta: v.delta, file: `${segRel}#${v.name}` }));
  const taken = new Set<string>();
  const quarantined: QuarantineRef[] = [];
  const sizes = (session.sizes ??= journalSizes(ctx));
  const lastFrame = session.state.frame;
  const intent: MergeIntent = { frame: step.frame, moves: [], written: [], sizes: { ...sizes }, consumed: [] };
  if (entries.length > 0) intent.segment = segRel;
  const quarantineCopies: Array<{ path: string; bytes: Uint8Array }> = [];
  const whyFiles: Array<{ path: string; text: string }> = [];
  for (const b of bad) {
    const q = quarantineName(ctx, b.name, taken);
    if (b.bytes) {
      intent.written.push(`quarantine/${q}`);
      quarantineCopies.push({ path: `quarantine/${q}`, bytes: b.bytes });
    } else intent.moves.push({ from: `inbox/${b.name}`, to: `quarantine/${q}` });
    intent.written.push(`quarantine/${q}.why.json`);
    whyFiles.push({ path: `quarantine/${q}.why.json`, text: JSON.stringify({ file: b.name, why: b.why, merge: step.frame, utc: new Date(now).toISOString() }) + '\n' });
    quarantined.push({ file: b.name, why: b.why });
  }
  // Which inbox files this merge empties, and which batch lines must wait alone for a later merge.
  const sources = new Set<string>();
  const takenNames = new Set<string>();
  for (const e of [...entries, ...bad]) {
    takenNames.add(e.name);
    // A bad file of its own is moved to the quarantine, not removed.
    if (e.source !== e.name || !('why' in e)) sources.add(book.ownFile.get(e.name) ?? e.source);
  }
  const waitAlone: string[] = [];
  for (const src of sources) {
    const left = book.waiting.get(src);
    if (left) for (const n of left) if (!takenNames.has(n)) waitAlone.push(n);
    intent.consumed!.push(`inbox/${src}`);
  }
  // Lines that wait alone are listed in the intent before they are written (an undo removes them);
  // a file already pending under such a name is left alone when it holds the same bytes.
  const toWrite = waitAlone.filter((n) => {
    const path = join(ctx.layout.inbox, n);
    if (!existsSync(path)) return true;
    if (Buffer.compare(readFileSync(path), book.bytesOf.get(n)!) !== 0) {
      throw new FramelogError(`inbox/${n}: a file of that name is pending, so a line of its batch cannot wait under it (rename the file)`, 'inbox-clash');
    }
    return false;
  });
  for (const n of toWrite) intent.written.push(`inbox/${n}`);
  const plan = ctx.plan;
  const outcome = mergeFrame(session.state, {
    frame: step.frame, deltas: pending, quarantined, keys: plan.keys, policies: policiesOf(plan), expectedWriters: plan.writers, nowMs: now, maxSkewMs: plan.maxSkewMs,
  });
  const conflictText = outcome.conflicts.map((c) => JSON.stringify(c) + '\n').join('');
  const eventText = outcome.events.map((e) => JSON.stringify(e) + '\n').join('');
  // The checkpoint policy counts the bytes of what was applied (not of skipped copies).
  const appliedIds = new Set(outcome.record.applied.map((r) => `${r.frame}/${r.writer}/${r.seq}/${r.sha256}`));
  let appliedBytes = 0;
  for (const v of entries) if (appliedIds.has(`${v.delta.frame}/${v.delta.writer}/${v.delta.seq}/${v.delta.sha256}`)) appliedBytes += v.bytes.length;
  const clock = session.clock;
  clock.bytesSince += appliedBytes;
  clock.mergesSince++;
  const checkpoint = checkpointDue(clock, plan);
  const stateText = checkpoint ? stateJson(session.state) : undefined;
  const { conflicts, ...head } = outcome.record;
  const record: MergeRecord = {
    ...head,
    conflicts,
    ...(stateText !== undefined ? { state_sha256: sha256Hex(stateText) } : {}),
    conflicts_sha256: sha256Hex(conflictText),
    events_sha256: sha256Hex(eventText),
    plan_sha256: ctx.planSha256,
    archive_sha256: archiveHash(entries),
    prev: session.head,
  };
  const line = JSON.stringify(record);
  const planLine = session.history.lineFor(ctx, step.frame);
  const segment = entries.length > 0
    ? Buffer.concat([encodeSegment(entries), Buffer.from(encodeCommitLine({ record: line, ...(planLine ? { plan: planLine } : {}), conflicts: conflictText, events: eventText }))])
    : undefined;
  const lag = session.lag;
  // The commit in one sync: a merge that only archives deltas taken whole from the inbox (nothing
  // to quarantine, no batch line left to wait) commits with its segment; its journal lines follow
  // without a sync of their own (lazyJournals.ts). Any other merge writes an intent first.
  const fast = segment !== undefined && bad.length === 0 && waitAlone.length === 0;
  if (fast) {
    if (!lagMarkerStands(ctx, lag)) markLag(ctx, lag, { frame: lastFrame, sizes: { ...sizes } });
    commitSegment(ctx, join(root, segRel), segment); // the commit point
    if (planLine) appendLagging(lag, ctx.layout.plans, planLine);
    appendLagging(lag, ctx.layout.conflicts, conflictText);
    appendLagging(lag, ctx.layout.events, eventText);
    appendLagging(lag, ctx.layout.merges, line + '\n');
    lag.merges++;
    sizes.plans += planLine ? Buffer.byteLength(planLine) : 0;
    sizes.conflicts += Buffer.byteLength(conflictText);
    sizes.events += Buffer.byteLength(eventText);
    sizes.merges += Buffer.byteLength(line) + 1;
  } else {
    // An intent replaces the lag marker: make the lagging journals durable first.
    settleJournals(ctx, lag);
    writeIntent(ctx, intent);
    if (segment) {
      writeNewFileSynced(join(root, segRel), segment, { dataOnly: true }); // archive/ is synced next
      fsyncDir(ctx.layout.archive);
    }
    for (const c of quarantineCopies) createFileDurable(join(root, c.path), c.bytes, { syncDir: false });
    // Each note is synced; the quarantine folder once for all of them, below.
    for (const w of whyFiles) {
      if (!createFileDurable(join(root, w.path), Buffer.from(w.text), { syncDir: false })) throw new FramelogError(`${w.path}: already exists (a note of no quarantined file: move it away)`, 'quarantine-clash');
    }
    for (const m of intent.moves) renameSync(join(root, m.from), join(root, m.to));
    if (bad.length > 0) fsyncDir(ctx.layout.quarantine);
    if (waitAlone.length > 0) {
      // A batch whose other lines wait for a later frame: those lines become files of their own
      // (durable before the record, which lets the batch go).
      for (const n of toWrite) {
        if (!createFileDurable(join(ctx.layout.inbox, n), book.bytesOf.get(n)!, { syncDir: false })) {
          throw new FramelogError(`inbox/${n}: appeared while the merge ran (a second writer of that name?)`, 'inbox-clash');
        }
      }
      for (const n of waitAlone) book.ownFile.set(n, n);
      fsyncDir(ctx.layout.inbox);
    }
    if (planLine) appendDurable(ctx.layout.plans, planLine);
    appendDurable(ctx.layout.conflicts, conflictText);
    appendDurable(ctx.layout.events, eventText);
    appendDurable(ctx.layout.merges, line + '\n'); // the commit point
    session.sizes = journalSizes(ctx);
  }
  for (const src of sources) book.waiting.delete(src);
  // Taken inbox files go only now. Not synced: a file that reappears after a power failure is a
  // redelivered copy, which the next merge archives as a duplicate.
  for (const c of intent.consumed!) unlinkIfThere(join(root, c));
  appendJournalIndex(ctx, step.frame, intent.sizes.merges);
  session.head = lineHash(line);
  if (session.archived !== undefined) session.archived += segment?.length ?? 0;
  if (stateText !== undefined) {
    writeSnapshot(ctx.layout, session.state, session.head, session.history.keysChangedBy(step.frame));
    markCheckpoint(clock, stateText.length);
    // A plan that sets snapshotEvery asked for those snapshots; the default plan keeps within 3×.
    if (plan.snapshotEvery === undefined) thinSnapshots(ctx.layout, (session.archived ??= archiveBytes(ctx.layout)));
  }
  if (fast) {
    if (lag.merges >= SETTLE_EVERY || lag.bytes >= SETTLE_BYTES) settleJournals(ctx, lag);
  } else clearIntent(ctx);
  return record;
}

function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Writes a merge's segment and syncs it into `archive/`: the commit of a fast-path merge. When the
 * sync fails the segment is removed again (and that removal synced) before the error goes up: a
 * segment whose sync failed may lose its pages later without a word (fsyncgate), so it must not be
 * found and adopted as committed by the next merger's recovery.
 */
function commitSegment(ctx: StoreContext, path: string, segment: Buffer): void {
  let written = false;
  try {
    writeNewFileSynced(path, segment, { dataOnly: true });
    written = true; // and synced; the folder's sync makes it the commit
    fsyncDir(ctx.layout.archive);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && !written) throw e; // not ours: never removed
    try {
      if (existsSync(path)) unlinkSync(path);
      fsyncDir(ctx.layout.archive);
    } catch (undo) {
      if (e instanceof Error) e.message += ` (and removing the uncommitted segment ${path} failed: ${(undo as Error).message}; the next merger's recovery may take it as committed)`;
      throw e;
    }
    if (e instanceof Error && !e.message.includes(path)) e.message += ` (committing ${path}: the merge was not committed)`;
    throw e;
  }
}

/**
 * Moves bad files to quarantine when no merge runs to list them. Bad batch lines are copied
 * there; the valid lines of such a batch are written out as files of their own; then the batch goes.
 */
function quarantineAlone(ctx: StoreContext, scan: InboxScan, now: number): void {
  const { bad } = scan;
  const taken = new Set<string>();
  const batches = new Set<string>();
  for (const b of bad) {
    const q = quarantineName(ctx, b.name, taken);
    if (b.bytes) {
      createFileDurable(join(ctx.layout.quarantine, q), b.bytes, { syncDir: false });
      batches.add(b.source);
    }
    writeFileDurable(join(ctx.layout.quarantine, `${q}.why.json`), JSON.stringify({ file: b.name, why: b.why, merge: null, utc: new Date(now).toISOString() }) + '\n');
    if (!b.bytes) renameSync(join(ctx.layout.inbox, b.name), join(ctx.layout.quarantine, q));
  }
  if (bad.length === 0) return;
  fsyncDir(ctx.layout.quarantine);
  for (const v of scan.valid) {
    if (!batches.has(v.source)) continue;
    const path = join(ctx.layout.inbox, v.name);
    if (!createFileDurable(path, v.bytes, { syncDir: false }) && Buffer.compare(readFileSync(path), v.bytes) !== 0) {
      throw new FramelogError(`inbox/${v.name}: a file of that name is pending, so a line of its batch cannot wait under it (rename the file)`, 'inbox-clash');
    }
  }
  fsyncDir(ctx.layout.inbox);
  for (const src of batches) unlinkIfThere(join(ctx.layout.inbox, src));
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
    quarantineAlone(ctx, scan, now());
    return [];
  }
  const records: MergeRecord[] = [];
  const book = bookOf(scan);
  for (let i = 0; i < steps.length; i++) {
    const record = commitMerge(ctx, session, steps[i], i === 0 ? scan.bad : [], now(), book);
    records.push(record);
    opts.onCommit?.(record);
  }
  return records;
}
