import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { archiveHash } from '../inbox/inbox.js';
import { readIntent } from '../commit/mergeIntent.js';
import { readLagMarker } from '../commit/lazyJournals.js';
import { canonicalJson } from '../../delta/canonicalJson.js';
import { sha256Hex } from '../../delta/contentHash.js';
import type { JsonValue } from '../../delta/types.js';
import { createMergeState } from '../../merge/mergeState.js';
import { mergeFrame } from '../../merge/mergeFrame.js';
import { policiesOf } from '../../merge/fieldPolicies.js';
import { unknownResolution } from '../../merge/resolutions.js';
import type { ConflictFormat } from '../../merge/records.js';
import type { ConflictRecord, EventRecord, MergeRecord } from '../../merge/records.js';
import { readArchive, segmentCommitOf } from './archive.js';
import { readJournal, lineHash, type JournalLine } from './journalFile.js';
import { snapshotName } from '../layout.js';
import { segmentName } from './archiveSegment.js';
import { stateSha256 } from '../../merge/canonicalState.js';
import { PlanHistory } from '../planHistory.js';
import { listSnapshotFrames, readSnapshot, snapshotText } from './snapshots.js';
import type { StoreContext } from '../storeContext.js';

/** One thing `verify` found wrong: the file, the line or frame, and what. */
export interface VerifyFault {
  file: string;
  line?: number;
  frame?: number;
  message: string;
}

/** The outcome of {@link verifyStore}. */
export interface VerifyReport {
  ok: boolean;
  merges: number;
  deltas: number;
  snapshots: number;
  faults: VerifyFault[];
  /**
   * Caches found unusable that are no fault of the log: a snapshot a power failure cut short
   * (snapshots are written without a sync). Readers skip it; the next merger to open the store
   * writes it again.
   */
  caches: VerifyFault[];
}

const canon = (v: unknown): string => canonicalJson(v as JsonValue);
const ids = (l: ReadonlyArray<{ frame: number; writer: string; seq: number; sha256: string }>): string => canon(l.map((r) => [r.frame, r.writer, r.seq, r.sha256]));

function groupByMerge<T extends { merge: number }>(lines: Array<JournalLine<T>>): Map<number, Array<JournalLine<T>>> {
  const m = new Map<number, Array<JournalLine<T>>>();
  for (const l of lines) {
    let g = m.get(l.value.merge);
    if (!g) m.set(l.value.merge, (g = []));
    g.push(l);
  }
  return m;
}

/**
 * The conflict-record format a merge wrote: 1 when its records carry no id (written before
 * PROTOCOL v1.1), else 2. A merge with no records is recomputed in the current format.
 */
function formatOf(lines: Array<JournalLine<ConflictRecord>> | undefined): ConflictFormat {
  return lines !== undefined && lines.length > 0 && lines[0].value.conflict === undefined ? 1 : 2;
}

/**
 * Checks a store end to end (PROTOCOL §3, §5): the merge journal's hash chain; every merge
 * recomputed from its archive (applied, late, duplicates, fallback, skewed, conflicts,
 * events, and `state_sha256` where the record carries one); every snapshot compared whole, stamps included. A missing snapshot
 * is a cache miss, not a fault. Faults name the file, and the line or frame.
 */
export function verifyStore(ctx: StoreContext): VerifyReport {
  const faults: VerifyFault[] = [];
  const report: VerifyReport = { ok: true, merges: 0, deltas: 0, snapshots: 0, faults, caches: [] };
  const fault = (f: VerifyFault): void => void faults.push(f);
  let records: Array<JournalLine<MergeRecord>>, conflicts: Array<JournalLine<ConflictRecord>>, events: Array<JournalLine<EventRecord>>;
  try {
    records = readJournal<MergeRecord>(ctx.layout.merges, 'journal/merges.ndjson');
    conflicts = readJournal<ConflictRecord>(ctx.layout.conflicts, 'journal/conflicts.ndjson');
    events = readJournal<EventRecord>(ctx.layout.events, 'journal/events.ndjson');
  } catch (e) {
    fault({ file: (e as Error).message.split(':')[0], message: (e as Error).message });
    report.ok = false;
    return report;
  }
  // A merge in progress, or journals that lag the archive (lazyJournals.ts): lines and segments
  // past the last record are expected until the merger (or its recovery) appends the rest.
  const inProgress = readIntent(ctx) !== undefined || readLagMarker(ctx) !== undefined;
  // 1. The chain: each record names the hash of the line before it.
  let prev: string | null = null;
  let lastFrame = -1;
  for (const r of records) {
    if (r.value.prev !== prev) fault({ file: 'journal/merges.ndjson', line: r.line, frame: r.value.frame, message: `prev does not match the line before (a merge record was edited, dropped or reordered)` });
    if (!(r.value.frame > lastFrame)) fault({ file: 'journal/merges.ndjson', line: r.line, frame: r.value.frame, message: `frame ${r.value.frame} does not follow frame ${lastFrame}` });
    prev = lineHash(r.text);
    lastFrame = Math.max(lastFrame, r.value.frame);
  }
  const recordFrames = new Set(records.map((r) => r.value.frame));
  const conflictsBy = groupByMerge(conflicts);
  const eventsBy = groupByMerge(events);
  for (const [label, groups] of [['journal/conflicts.ndjson', conflictsBy], ['journal/events.ndjson', eventsBy]] as const) {
    for (const [merge, lines] of groups) {
      if (!recordFrames.has(merge) && !inProgress) fault({ file: label, line: lines[0].line, frame: merge, message: `lines of merge ${merge}, which has no merge record` });
    }
  }
  for (const d of readdirSync(ctx.layout.archive)) {
    const m = /^merge-(\d+)(?:\.ndjson)?$/.exec(d);
    if (m && !recordFrames.has(Number(m[1])) && !inProgress) fault({ file: `archive/${d}`, frame: Number(m[1]), message: 'archived deltas of a merge that has no merge record (a record was dropped?)' });
  }
  // The quarantine's .why.json files say which merge set each file aside.
  const quarantinedBy = new Map<number, string[]>();
  for (const n of readdirSync(ctx.layout.quarantine)) {
    if (!n.endsWith('.why.json') || n.startsWith('.')) continue;
    let why: { file?: string; why?: string; merge?: number | null };
    try {
      why = JSON.parse(readFileSync(join(ctx.layout.quarantine, n), 'utf8'));
    } catch {
      fault({ file: `quarantine/${n}`, message: 'not JSON' });
      continue;
    }
    if (typeof why.merge !== 'number') continue; // set aside when no merge ran
    if (!recordFrames.has(why.merge) && !inProgress) fault({ file: `quarantine/${n}`, frame: why.merge, message: `names merge ${why.merge}, which has no merge record` });
    let list = quarantinedBy.get(why.merge);
    if (!list) quarantinedBy.set(why.merge, (list = []));
    list.push(`${why.file}\u0000${why.why}`);
  }
  // 2. Recompute every merge from the archive.
  const history = PlanHistory.load(ctx);
  const snapshots = new Set(listSnapshotFrames(ctx.layout));
  const state = createMergeState();
  for (const r of records) {
    const rec = r.value;
    const where = segmentName(rec.frame);
    const plan = history.planAt(rec.frame);
    const archived = readArchive(ctx, rec.frame, plan);
    const broken = archived.find((a) => !a.delta);
    if (broken) {
      fault({ file: broken.file, frame: rec.frame, message: `archived delta no longer validates: ${broken.problem}` });
      break;
    }
    report.deltas += archived.length;
    if (archiveHash(archived) !== rec.archive_sha256) {
      fault({ file: where, frame: rec.frame, message: 'archive folder differs from what the merge archived (a file was edited, added or removed)' });
      break;
    }
    const commit = segmentCommitOf(ctx, rec.frame);
    if (commit && commit.record !== r.text) {
      fault({ file: where, frame: rec.frame, message: 'the commit line of the segment differs from the merge record (one of them was edited)' });
    }
    if (history.shaAt(rec.frame) !== rec.plan_sha256) {
      fault({ file: 'journal/merges.ndjson', line: r.line, frame: rec.frame, message: 'plan_sha256 is not the plan journal/plans.ndjson says was in force' });
    }
    const qWant = canon((quarantinedBy.get(rec.frame) ?? []).sort());
    const qGot = canon(rec.quarantined.map((q) => `${q.file}\u0000${q.why}`).sort());
    if (qWant !== qGot) {
      fault({ file: 'journal/merges.ndjson', line: r.line, frame: rec.frame, message: `quarantined list differs from quarantine/*.why.json of merge ${rec.frame}` });
    }
    if (state.frame !== null && rec.frame <= state.frame) break; // out of order: the chain check above named it
    const unknown = archived.map((a) => ({ file: a.file, why: unknownResolution(a.delta!, state.conflictCounts) })).find((u) => u.why);
    if (unknown) {
      fault({ file: unknown.file, frame: rec.frame, message: `archived resolution ${unknown.why} (it should have been quarantined)` });
      break;
    }
    const nowMs = Date.parse(rec.utc);
    const out = mergeFrame(state, {
      frame: rec.frame, deltas: archived.map((a) => ({ delta: a.delta!, file: a.file })), quarantined: rec.quarantined,
      keys: plan.keys, policies: policiesOf(plan), conflictFormat: formatOf(conflictsBy.get(rec.frame)), expectedWriters: plan.writers, nowMs, maxSkewMs: plan.maxSkewMs,
    });
    const got = out.record;
    const checks: Array<[string, boolean]> = [
      ['applied', ids(got.applied) === ids(rec.applied)],
      ['late', ids(got.late) === ids(rec.late)],
      ['duplicates', ids(got.duplicates) === ids(rec.duplicates)],
      ['skewed', ids(got.skewed) === ids(rec.skewed)],
      ['fallback', canon(got.fallback) === canon(rec.fallback)],
      ['missing', canon(got.missing) === canon(rec.missing)],
      ['conflicts', got.conflicts === rec.conflicts],
      ['resolved', canon(got.resolved ?? []) === canon(rec.resolved ?? [])],
    ];
    const bad = checks.filter(([, ok]) => !ok).map(([n]) => n);
    if (bad.length > 0) {
      fault({ file: where, frame: rec.frame, message: `recomputed merge differs from its record in ${bad.join(', ')} (an archived delta or the record was changed)` });
      break;
    }
    if (rec.state_sha256 !== undefined && stateSha256(state) !== rec.state_sha256) {
      fault({ file: 'journal/merges.ndjson', line: r.line, frame: rec.frame, message: 'state_sha256 differs from the state recomputed from the archive' });
      break;
    }
    const cLines = conflictsBy.get(rec.frame) ?? [];
    const cText = cLines.map((l) => l.text + '\n').join('');
    if (sha256Hex(cText) !== rec.conflicts_sha256) {
      fault({ file: 'journal/conflicts.ndjson', line: cLines[0]?.line, frame: rec.frame, message: `conflict records of merge ${rec.frame} were edited, dropped or reordered` });
    } else if (canon(cLines.map((l) => l.value)) !== canon(out.conflicts)) {
      fault({ file: 'journal/conflicts.ndjson', line: cLines[0]?.line, frame: rec.frame, message: `conflict records of merge ${rec.frame} differ from the recomputed ones` });
    }
    const eLines = eventsBy.get(rec.frame) ?? [];
    const eText = eLines.map((l) => l.text + '\n').join('');
    if (sha256Hex(eText) !== rec.events_sha256 || canon(eLines.map((l) => l.value)) !== canon(out.events)) {
      fault({ file: 'journal/events.ndjson', line: eLines[0]?.line, frame: rec.frame, message: `event records of merge ${rec.frame} were edited, dropped or reordered` });
    }
    if (snapshots.has(rec.frame)) {
      report.snapshots++;
      const snap = readSnapshot(ctx.layout, rec.frame);
      const anchor = snap?.snapshot.record_sha256 ?? null;
      if (!snap) {
        report.caches.push({ file: snapshotName(rec.frame), frame: rec.frame, message: 'snapshot unreadable (cut short by a power failure: a cache, skipped by readers and written again by the next merger)' });
      } else if (canon(snap.snapshot) + '\n' !== snapshotText(state, anchor, history.keysChangedBy(rec.frame), snap.snapshot.v === 2 ? 2 : 1)) {
        fault({ file: snapshotName(rec.frame), frame: rec.frame, message: 'snapshot differs from the state recomputed at its frame (edited or corrupt)' });
      } else if (anchor !== lineHash(r.text)) {
        fault({ file: 'journal/merges.ndjson', line: r.line, frame: rec.frame, message: `merge record differs from the one ${snapshotName(rec.frame)} was written after (record edited)` });
      }
    }
    report.merges++;
  }
  for (const f of snapshots) {
    if (!recordFrames.has(f)) fault({ file: snapshotName(f), frame: f, message: 'snapshot of a frame that has no merge record' });
  }
  report.ok = faults.length === 0;
  return report;
}
