import { readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { FieldPolicy } from '../delta/plan.js';
import type { Delta, JsonObject } from '../delta/types.js';
import { FramelogError } from '../errors.js';
import { toState } from '../merge/canonicalState.js';
import { parseConflictId } from '../merge/resolutions.js';
import { lastMergedFrame } from '../store/history/lastMergedFrame.js';
import { queryConflicts, type ConflictEntry, type ConflictFilter } from '../store/history/journalQueries.js';
import { loadStateAt } from '../store/history/stateAt.js';
import type { StoreContext } from '../store/storeContext.js';
import { buildResolutions, type PlannedResolution } from './buildResolutions.js';
import { chooseWrite, type ResolveChoice } from './chooseWrite.js';
import type { Resolver } from './loadResolver.js';

/** What to resolve, and how (PROTOCOL §2a; `framelog resolve`). */
export interface ResolveRequest {
  /** These conflict ids; or, when absent, every open conflict that passes `filter`. */
  ids?: readonly string[];
  filter?: Omit<ConflictFilter, 'open' | 'ids'>;
  /** With no ids: resolve every open conflict that passes `filter`, even when it names no filter. */
  all?: boolean;
  /** How to decide: give exactly one of `choice` and `resolver`. */
  choice?: ResolveChoice;
  resolver?: Resolver;
  /** The resolution's writer (default `human.<user>`, `policy.<name>` for a policy or a resolver). */
  as?: string;
  /** The resolution's frame (default: the frame after the last merge, so it is not late). */
  frame?: number;
  /** Its wall clock (default: now). */
  utc?: string;
  /** Its first `seq` (default 0; a writer putting several resolutions to one frame gives each its own). */
  seq?: number;
}

/** The resolution deltas a request makes, before they are put. */
export interface ResolutionPlan {
  deltas: Delta[];
  /** The conflicts the deltas close. */
  resolves: string[];
  /** Conflicts a resolver left open (it returned nothing for them). */
  declined: string[];
  /** Conflicts named by id that a resolution had already closed (this one outranks it: later stamp). */
  reresolved: string[];
}

const safeWriter = (name: string): string => name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 128) || 'human';

function defaultWriter(req: ResolveRequest): string {
  if (req.resolver) return safeWriter(`policy.${req.resolver.module.replace(/\.[cm]?[jt]s$/, '')}`);
  const c = req.choice;
  if (c && 'policy' in c) return safeWriter(`policy.${typeof c.policy === 'string' ? c.policy : 'priority'}`);
  let user = 'someone';
  try {
    user = userInfo().username || user;
  } catch {
    // no user name on this system (a container without /etc/passwd): keep the generic one
  }
  return safeWriter(`human.${user}`);
}

function metaOf(req: ResolveRequest): JsonObject {
  if (req.resolver) return { resolution: { by: 'resolver', module: req.resolver.module, sha256: req.resolver.sha256 } };
  const c = req.choice!;
  if ('keep' in c) return { resolution: { by: 'keep' } };
  if ('winner' in c) return { resolution: { by: 'winner', winner: c.winner } };
  if ('policy' in c) return { resolution: { by: 'policy', policy: c.policy as FieldPolicy & JsonObject } };
  return { resolution: { by: 'value' } };
}

/**
 * The seq after the last one `writer` has pending in the inbox for `frame` (0 when none), so two
 * resolutions put before a merge never share an identity.
 */
export function nextPendingSeq(ctx: StoreContext, frame: number, writer: string): number {
  const prefix = `frame-${String(frame).padStart(6, '0')}.${writer}.`;
  let next = 0;
  for (const name of readdirSync(ctx.layout.inbox)) {
    if (!name.startsWith(prefix)) continue;
    const seq = Number(name.slice(prefix.length).split('.')[0]);
    if (Number.isSafeInteger(seq) && seq >= next) next = seq + 1;
  }
  return next;
}

/** The conflicts a request names: by id (each must exist), or the open ones passing its filter. */
export function targetsOf(ctx: StoreContext, req: ResolveRequest): { targets: ConflictEntry[]; reresolved: string[] } {
  if (req.ids && req.ids.length > 0) {
    for (const id of req.ids) if (!parseConflictId(id)) throw new FramelogError(`${id}: not a conflict id (they look like m530.0; framelog conflicts --open lists them)`, 'bad-argument');
    const found = queryConflicts(ctx, { ...(req.filter ?? {}), ids: req.ids });
    const have = new Set(found.map((c) => c.conflict));
    const missing = req.ids.filter((id) => !have.has(id));
    if (missing.length > 0) throw new FramelogError(`${missing[0]}: no such conflict${req.filter && Object.keys(req.filter).length ? ' (or it does not pass the filters)' : ''}; nothing was written`, 'bad-argument');
    return { targets: found, reresolved: found.filter((c) => c.resolvedBy).map((c) => c.conflict) };
  }
  const f = req.filter ?? {};
  if (!req.all && !Object.values(f).some((v) => v !== undefined)) throw new FramelogError('name conflict ids, or filters (--type, --field, --writer, --frame, --kind, --collection, --id) or --all for every open conflict', 'bad-argument');
  return { targets: queryConflicts(ctx, { ...f, open: true }), reresolved: [] };
}

/**
 * Plans the resolution deltas of a request against the store (nothing is written): finds the
 * conflicts, decides each (a resolver sees the latest state), and builds as few deltas as fit.
 */
export async function planResolution(ctx: StoreContext, req: ResolveRequest): Promise<ResolutionPlan> {
  if ((req.choice === undefined) === (req.resolver === undefined)) throw new FramelogError('give one way to decide: --value, --winner, --policy, --keep or --with', 'bad-argument');
  const { targets, reresolved } = targetsOf(ctx, req);
  const planned: PlannedResolution[] = [];
  const declined: string[] = [];
  const state = req.resolver ? toState(loadStateAt(ctx)) : undefined;
  for (const c of targets) {
    if (req.resolver) {
      const value = await req.resolver.resolve(c, state!);
      if (value === undefined) {
        declined.push(c.conflict);
        continue;
      }
      // A delta conflict has no value to choose: any answer closes it, the applied copy standing.
      planned.push({ conflict: c.conflict, merge: c.merge, write: chooseWrite(c, c.kind === 'delta' ? { keep: true } : { value }, ctx.plan) });
    } else planned.push({ conflict: c.conflict, merge: c.merge, write: chooseWrite(c, req.choice!, ctx.plan) });
  }
  const last = lastMergedFrame(ctx);
  const writer = req.as ?? defaultWriter(req);
  const frame = req.frame ?? (last === null ? 0 : last + 1);
  const deltas = planned.length === 0 ? [] : buildResolutions(planned, {
    writer, frame, utc: req.utc ?? new Date().toISOString(),
    seq: req.seq ?? nextPendingSeq(ctx, frame, writer), meta: metaOf(req), maxBytes: ctx.plan.maxDeltaBytes,
  });
  return { deltas, resolves: planned.map((p) => p.conflict), declined, reresolved };
}
