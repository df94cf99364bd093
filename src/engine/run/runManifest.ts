import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from '../../delta/types.js';
import { FramelogError } from '../../errors.js';
import { createFileDurable } from '../../durable/durableFs.js';

/** Where a fork came from: its parent run and the frame it shares history up to. */
export interface ParentLink {
  name: string;
  seed: string | number;
  /** The parent's store folder, as the fork was given it. */
  dir: string;
  /** Frames 0 … `frame` are the parent's, byte for byte. */
  frame: number;
  /** SHA-256 of the parent's merge record line for `frame` (null when no merge closed it). */
  record_sha256: string | null;
  /** The parent's state hash at `frame`. */
  state_sha256: string | null;
}

/**
 * `run.json` in a run's store: what makes the run reproducible (name, seed, shard count,
 * parameters, logical clock) and, for a fork, its parent. It holds no wall time and no path of
 * its own, so two runs of the same name, seed and code are byte-identical.
 */
export interface RunManifest {
  version: 1;
  name: string;
  /** As it was given: a number stays a number. The RNG is keyed by its text, so `1` and `"1"` are one run. */
  seed: string | number;
  shards: number;
  params: JsonObject;
  clock: { start: string; stepMs: number };
  parent: ParentLink | null;
}

/** The manifest file of the store at `dir`. */
export const manifestPath = (dir: string): string => join(dir, 'run.json');

/** Reads `run.json`, or undefined when the store has none. */
export function readRunManifest(dir: string): RunManifest | undefined {
  const file = manifestPath(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunManifest;
  } catch (e) {
    throw new FramelogError(`${file}: not JSON: ${(e as Error).message}`, 'bad-run');
  }
}

/** Writes `run.json` once (durably; never replaces one). */
export function writeRunManifest(dir: string, m: RunManifest): void {
  createFileDurable(manifestPath(dir), Buffer.from(JSON.stringify(m, null, 2) + '\n'));
}

/** A seed as a command line gives it: a whole number stays a number (so `run.json` says `"seed": 7`), anything else text. */
export function seedAsGiven(text: string): string | number {
  return /^(?:0|[1-9]\d{0,15})$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : text;
}

/** Throws when the store's manifest describes another run than `want` (seeds compare as text: the RNG's key). */
export function checkSameRun(dir: string, have: RunManifest, want: Pick<RunManifest, 'name' | 'seed' | 'shards'>): void {
  for (const k of ['name', 'seed', 'shards'] as const) {
    if (k === 'seed' ? String(have.seed) !== String(want.seed) : have[k] !== want[k]) {
      throw new FramelogError(`${dir}: holds run ${JSON.stringify(have.name)} with ${k} ${JSON.stringify(have[k])}, not ${JSON.stringify(want[k])} (give another dir, or fork the run)`, 'other-run');
    }
  }
}
