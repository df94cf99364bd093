import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { canonicalJson } from '../delta/canonicalJson.js';
import { sha256Hex } from '../delta/contentHash.js';
import { DEFAULT_PLAN, parsePlan, type Plan } from '../delta/plan.js';
import type { JsonValue } from '../delta/types.js';
import { FramelogError } from '../errors.js';
import { createFileDurable } from '../durable/durableFs.js';
import { storeLayout, type StoreLayout } from './layout.js';

/** An open filesystem store: where it is and the plan in force. */
export interface StoreContext {
  layout: StoreLayout;
  plan: Plan;
  /** SHA-256 of the canonical plan. */
  planSha256: string;
}

/**
 * SHA-256 of a plan's canonical JSON, without `transport` (how deltas travel changes nothing of
 * what a merge does, so hosts reaching the same engine by different URLs hold the same plan).
 */
export const planSha256 = (plan: Plan): string => {
  const { transport: _travel, ...meaning } = plan;
  return sha256Hex(canonicalJson(meaning as unknown as JsonValue));
};

const FOLDERS = ['inbox', 'archive', 'quarantine', 'journal', 'snapshots', 'views', 'streams'] as const;

/**
 * Creates a store at `dir` (PROTOCOL §5) with the default plan, merged with `plan` when given.
 * Refuses a folder that already holds a store.
 */
export function initStore(dir: string, plan: Partial<Plan> = {}): StoreContext {
  const layout = storeLayout(dir);
  if (existsSync(layout.plan)) throw new FramelogError(`${dir}: already a framelog store (framelog.json exists)`, 'exists');
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new FramelogError(`${dir}: exists and is not a folder`, 'exists');
  const full = parsePlan({ ...DEFAULT_PLAN, ...plan });
  for (const f of FOLDERS) mkdirSync(`${dir}/${f}`, { recursive: true });
  createFileDurable(layout.plan, Buffer.from(JSON.stringify(full, null, 2) + '\n'));
  return { layout, plan: full, planSha256: planSha256(full) };
}

/** Opens the store at `dir`; the error says how to create one when there is none. */
export function openStoreContext(dir: string): StoreContext {
  const layout = storeLayout(dir);
  let text: string;
  try {
    text = readFileSync(layout.plan, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FramelogError(`${dir}: no framelog store here (run: framelog init --dir ${dir})`, 'no-store');
    }
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FramelogError(`${layout.plan}: not JSON: ${(e as Error).message}`, 'bad-plan');
  }
  const plan = parsePlan(raw, layout.plan);
  for (const f of FOLDERS) mkdirSync(`${dir}/${f}`, { recursive: true });
  return { layout, plan, planSha256: planSha256(plan) };
}
