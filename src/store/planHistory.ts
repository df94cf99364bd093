import { canonicalJson } from '../delta/canonicalJson.js';
import type { Plan } from '../delta/plan.js';
import type { JsonValue } from '../delta/types.js';
import { readJournal } from './history/journalFile.js';
import type { StoreContext } from './storeContext.js';

/** A line of `journal/plans.ndjson`: the plan in force from merge `from` on. */
export interface PlanEntry {
  from: number;
  sha256: string;
  plan: Plan;
}

/**
 * The plans the store has merged under, oldest first. Replay and verify use the plan that was in
 * force for each merge (item keys and shape mapping change what a delta means).
 */
export class PlanHistory {
  private constructor(private readonly entries: PlanEntry[], private readonly current: Plan) {}

  static load(ctx: StoreContext): PlanHistory {
    return new PlanHistory(readJournal<PlanEntry>(ctx.layout.plans, 'journal/plans.ndjson').map((l) => l.value), ctx.plan);
  }

  /** The plan in force for merge `frame`. */
  planAt(frame: number): Plan {
    let found: Plan | undefined;
    for (const e of this.entries) if (e.from <= frame) found = e.plan;
    return found ?? this.entries[0]?.plan ?? this.current;
  }

  /** The hash of the plan in force for merge `frame` (undefined before any plan was recorded). */
  shaAt(frame: number): string | undefined {
    let found: string | undefined;
    for (const e of this.entries) if (e.from <= frame) found = e.sha256;
    return found ?? this.entries[0]?.sha256;
  }

  /**
   * True when the item keys of the plans in force up to merge `frame` were not always the same:
   * items stored then may carry keys the current plan would not give them, so snapshots write
   * every key out.
   */
  keysChangedBy(frame: number): boolean {
    let first: string | undefined;
    for (const e of this.entries) {
      if (e.from > frame) break;
      const k = canonicalJson(e.plan.keys as unknown as JsonValue);
      if (first === undefined) first = k;
      else if (k !== first) return true;
    }
    return false;
  }

  /** The hash of the newest recorded plan, if any. */
  latestSha(): string | undefined {
    return this.entries.at(-1)?.sha256;
  }

  /**
   * When the plan hashed `sha256` was in force once and a later plan replaced it: the entry of the
   * plan that replaced it last time it was in force (undefined when `sha256` is the newest plan, or
   * was never recorded, i.e. a new plan).
   */
  replacementOf(sha256: string): PlanEntry | undefined {
    let last = -1;
    this.entries.forEach((e, i) => {
      if (e.sha256 === sha256) last = i;
    });
    if (last < 0 || this.entries.at(-1)!.sha256 === sha256) return undefined;
    return this.entries[last + 1];
  }

  /** The line to append when merge `frame` runs under a plan the history does not end with. */
  lineFor(ctx: StoreContext, frame: number): string | undefined {
    if (this.latestSha() === ctx.planSha256) return undefined;
    const entry: PlanEntry = { from: frame, sha256: ctx.planSha256, plan: ctx.plan };
    this.entries.push(entry);
    return JSON.stringify(entry) + '\n';
  }
}
