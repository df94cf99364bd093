import { mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../delta/canonicalJson.js';
import type { Plan } from '../delta/plan.js';
import type { JsonValue } from '../delta/types.js';
import { FramelogError } from '../errors.js';
import { diffStates, type StateDiff } from '../merge/diffStates.js';
import type { ConflictRecord, MergeRecord, QuarantineRef } from '../merge/records.js';
import { readArchiveEntries } from '../store/history/archive.js';
import { queryConflicts, readLog, type ConflictEntry } from '../store/history/journalQueries.js';
import { loadStateAt } from '../store/history/stateAt.js';
import { openMergerOn } from '../store/openStore.js';
import { copyStore } from '../store/replication/copyStore.js';
import { rewindStore } from '../store/replication/rewindStore.js';
import { initStore, openStoreContext, type StoreContext } from '../store/storeContext.js';

/** What to replay, under which plan. */
export interface WhatIfOptions {
  /** The other plan (other policies, other item keys…). */
  plan: Plan;
  /** Merges up to this frame keep the store's own plan; the other plan applies after it (default: from the first merge). */
  from?: number;
  /** The last merge replayed (default: the last merge). */
  to?: number;
  /** Where the scratch store goes (default: a temporary folder, removed afterwards). A folder given is kept. */
  scratchDir?: string;
  /** Called after each merge replayed: how many so far, and of how many. */
  onProgress?: (done: number, total: number) => void;
}

/** A conflict that both runs recorded at one place, with different winners. */
export interface ChangedWinner {
  real: ConflictEntry;
  whatif: ConflictEntry;
}

/** What the other plan would have changed (real → what-if). */
export interface WhatIfReport {
  from: number | null;
  to: number;
  /** Merges replayed under the other plan. */
  merges: number;
  /** The scratch store, when it was kept. */
  scratch?: string;
  /** The state at `to`: the real one (old) → the what-if one (new). */
  diff: StateDiff;
  conflicts: {
    /** Recorded in the what-if run only. */
    appeared: ConflictEntry[];
    /** Recorded in the real run only. */
    vanished: ConflictEntry[];
    changedWinner: ChangedWinner[];
  };
  /**
   * Deltas the what-if run quarantined that the real one did not: deltas the other plan's shape
   * refuses, and resolutions whose ids name no conflict of the what-if run (ids are per run).
   */
  quarantined: Array<QuarantineRef & { merge: number }>;
}

/** The place a conflict record is about: what two runs compare it by. */
function placeOf(c: ConflictRecord): string {
  if (c.kind === 'field') return `${c.merge}\u0000field\u0000${c.type}\u0000${c.id}\u0000${c.field}`;
  if (c.kind === 'item') return `${c.merge}\u0000item\u0000${c.collection}\u0000${c.key}`;
  return `${c.merge}\u0000delta\u0000${c.frame}\u0000${c.writer}\u0000${c.seq}`;
}
const winnerOf = (c: ConflictRecord): string => (c.kind === 'delta' ? c.kept : canonicalJson(c.winner.value as JsonValue) + '\u0000' + c.winner.writer);

/** Replays `records` (the real store's merges) into the scratch store, each with its own deltas and clock. */
function replay(real: StoreContext, scratch: StoreContext, records: MergeRecord[], onProgress?: WhatIfOptions['onProgress']): void {
  const merger = openMergerOn(scratch);
  try {
    records.forEach((r, i) => {
      for (const e of readArchiveEntries(real, r.frame).entries) writeFileSync(join(scratch.layout.inbox, e.name), e.bytes);
      // The real quarantine holds what that merge set aside: it stays aside here too (a what-if
      // is about the plan, not about deltas that broke the protocol).
      const at = Date.parse(r.utc);
      merger.merge({ through: r.frame, now: () => at });
      onProgress?.(i + 1, records.length);
    });
  } finally {
    merger.close();
  }
}

/**
 * Replays the store's archived deltas under another plan into a scratch store (never touching the
 * real one) and reports, at frame `to`, how state and conflicts would differ (PROTOCOL §2a: how a
 * user decides whether to adopt a policy before adopting it). Merges keep their boundaries and
 * clocks; with `from`, merges up to it keep the real plan (copied, not replayed).
 */
export function whatIf(real: StoreContext, o: WhatIfOptions): WhatIfReport {
  const all = readLog(real);
  if (all.length === 0) throw new FramelogError('nothing is merged yet: there is nothing to replay', 'bad-argument');
  const to = o.to ?? all.at(-1)!.frame;
  const from = o.from ?? null;
  if (from !== null && from >= to) throw new FramelogError(`--from ${from}: must be below --to (${to})`, 'bad-argument');
  const replayed = all.filter((r) => r.frame <= to && (from === null || r.frame > from));
  const dir = o.scratchDir ?? mkdtempSync(join(tmpdir(), 'framelog-whatif-'));
  const storeDir = o.scratchDir ?? join(dir, 'store');
  try {
    let scratch: StoreContext;
    if (from === null) scratch = initStore(storeDir, o.plan);
    else {
      // The real history up to `from`, then the other plan.
      copyStore(real, storeDir);
      const copy = openStoreContext(storeDir);
      rewindStore(copy, all.filter((r) => r.frame <= from).length);
      for (const n of readdirSync(copy.layout.inbox)) unlinkSync(join(copy.layout.inbox, n));
      writeFileSync(copy.layout.plan, JSON.stringify(o.plan, null, 2) + '\n');
      scratch = openStoreContext(storeDir);
    }
    replay(real, scratch, replayed, o.onProgress);
    const d = diffStates(loadStateAt(real, to), loadStateAt(scratch, to), to, to);
    // A what-if is about values: the same value set by another write is no difference here.
    const same = (a: unknown, b: unknown): boolean => canonicalJson(a as JsonValue) === canonicalJson(b as JsonValue);
    const diff: StateDiff = { ...d, fields: d.fields.filter((f) => !('old' in f) || !same(f.old, f.new)), items: d.items.filter((i) => i.replaced === undefined || !same(i.replaced, i.item)) };
    const inRange = { frame: { ...(from !== null ? { from: from + 1 } : {}), to } };
    const realC = queryConflicts(real, inRange);
    const whatC = queryConflicts(scratch, inRange);
    const byPlace = new Map(realC.map((c) => [placeOf(c), c]));
    const seen = new Set<string>();
    const appeared: ConflictEntry[] = [];
    const changedWinner: ChangedWinner[] = [];
    for (const c of whatC) {
      const k = placeOf(c);
      seen.add(k);
      const r = byPlace.get(k);
      if (!r) appeared.push(c);
      else if (winnerOf(r) !== winnerOf(c)) changedWinner.push({ real: r, whatif: c });
    }
    const vanished = realC.filter((c) => !seen.has(placeOf(c)));
    const realQ = new Set(all.flatMap((r) => r.quarantined.map((q) => `${r.frame}\u0000${q.file}`)));
    const quarantined = readLog(scratch).filter((r) => r.frame <= to && (from === null || r.frame > from))
      .flatMap((r) => r.quarantined.filter((q) => !realQ.has(`${r.frame}\u0000${q.file}`)).map((q) => ({ ...q, merge: r.frame })));
    return {
      from, to, merges: replayed.length, ...(o.scratchDir ? { scratch: storeDir } : {}),
      diff, conflicts: { appeared, vanished, changedWinner }, quarantined,
    };
  } finally {
    if (!o.scratchDir) rmSync(dir, { recursive: true, force: true });
  }
}
