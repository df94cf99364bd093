// Given / when / then helpers for protocol tests, over a real store in a temp folder:
//
//   const s = await givenStore();                       // given an empty store (default plan)
//   await s.put(delta({ frame: 3, writer: 'w1', counters: { n: 1 } }));
//   await s.merge();                                    // when frame 3 merges
//   expect(await s.state()).toEqual(stateOf({ counters: { n: 1 } }));   // then state is …
//   s.dispose();
//
// Excluded from the build (tsconfig.build.json): tests only.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../delta/canonicalJson.js';
import type { Plan } from '../delta/plan.js';
import type { Delta, JsonValue } from '../delta/types.js';
import type { State } from '../merge/canonicalState.js';
import type { ConflictRecord, MergeRecord } from '../merge/records.js';
import type { ConflictFilter } from '../store/history/journalQueries.js';
import { openStore, type Store } from '../store/openStore.js';
import type { PutResult } from '../store/inbox/putDeltas.js';
import type { MergeOptions } from '../store/commit/runMerge.js';
import type { VerifyReport } from '../store/history/verifyStore.js';

/** The clock `merge` uses unless told otherwise: fixed, so merge records are reproducible. */
export const GIVEN_NOW_MS = Date.parse('2026-06-01T00:00:00.000Z');

/** A store in a temp folder, driven through the library (`openStore`). */
export interface GivenStore {
  /** The store folder. */
  readonly dir: string;
  /** The underlying store, for anything the helpers below do not cover. */
  readonly store: Store;
  /** Validates and puts deltas (objects, JSON text or bytes), all or nothing. */
  put(...deltas: Array<Delta | Record<string, unknown> | string | Uint8Array>): Promise<PutResult[]>;
  /** Writes raw bytes into `inbox/NAME` unchecked, as a misbehaving writer would. */
  drop(name: string, bytes: string | Uint8Array): void;
  /** Closes pending frames; the clock defaults to {@link GIVEN_NOW_MS}. */
  merge(opts?: MergeOptions): Promise<MergeRecord[]>;
  /** Canonical state at frame `at` (default: latest). */
  state(at?: number): Promise<State>;
  /** Canonical JSON of {@link state}: compare these for byte equality. */
  stateJson(at?: number): Promise<string>;
  conflicts(filter?: ConflictFilter): Promise<ConflictRecord[]>;
  log(): Promise<MergeRecord[]>;
  verify(): Promise<VerifyReport>;
  /** A fresh copy of the whole store folder (for tampering without touching this one). */
  copy(): Promise<GivenStore>;
  /** Removes the folder. */
  dispose(): void;
}

/** Creates an empty store in a new temp folder, with `plan` over the defaults. */
export async function givenStore(plan: Partial<Plan> = {}): Promise<GivenStore> {
  const dir = mkdtempSync(join(tmpdir(), 'framelog-given-'));
  const store = await openStore(dir, { create: true, plan });
  return wrap(dir, store);
}

function wrap(dir: string, store: Store): GivenStore {
  const self: GivenStore = {
    dir,
    store,
    put: (...deltas) => store.put(deltas as Array<Delta | string | Uint8Array>),
    drop: (name, bytes) => writeFileSync(join(dir, 'inbox', name), bytes, { flag: 'wx' }),
    merge: (opts = {}) => store.merge({ now: () => GIVEN_NOW_MS, ...opts }),
    state: (at) => store.stateAt(at),
    stateJson: async (at) => canonicalJson((await store.stateAt(at)) as unknown as JsonValue),
    conflicts: (filter) => store.conflicts(filter),
    log: () => store.log(),
    verify: () => store.verify(),
    copy: async () => {
      const to = mkdtempSync(join(tmpdir(), 'framelog-given-'));
      cpSync(dir, to, { recursive: true });
      return wrap(to, await openStore(to));
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
  return self;
}

let utcTick = 0;
/**
 * A delta with defaults for what a test does not care about: `utc` a distinct instant per call
 * (2026-01-01T00:00:00.000Z + n ms), unless given.
 */
export function delta(d: Partial<Delta> & { frame: number; writer: string } & Record<string, unknown>): Delta {
  return { utc: new Date(Date.parse('2026-01-01T00:00:00.000Z') + utcTick++).toISOString(), ...d };
}

/** A canonical state with the keys a test leaves out filled in empty (PROTOCOL §4). */
export function stateOf(s: Partial<State> = {}): State {
  return { items: {}, counters: {}, entities: {}, ...s };
}
