// PROTOCOL v1.1 §3: state_sha256 only on checkpoint records, checkpoints when the bytes merged since
// the last reach the state's size; what a user can hold against them (`framelog state --at N`);
// verify still catches every edit with most records carrying no state hash; old snapshots thinned
// so the store stays within 3× its deltas; a store written before v1.1 opens and merges on.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../delta/canonicalJson.js';
import type { JsonValue } from '../../delta/types.js';
import { openStore } from '../openStore.js';
import { toState } from '../../merge/canonicalState.js';
import { SNAPSHOT_BUDGET, archiveBytes } from './checkpoints.js';
import { openMergerOn } from '../openStore.js';
import { putDeltas } from '../inbox/putDeltas.js';
import { loadStateAt, readMergeRecords } from '../history/stateAt.js';
import { initStore, openStoreContext, type StoreContext } from '../storeContext.js';
import { listSnapshotFrames } from '../history/snapshots.js';
import { verifyStore } from '../history/verifyStore.js';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-checkpoints-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const utc = (f: number, w: number): string => new Date(Date.UTC(2026, 0, 1) + f * 1000 + w).toISOString();
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** Merges `frames` frames of 2 writers adding `items` items each (a state that grows). */
function grow(ctx: StoreContext, from: number, frames: number, items = 5): void {
  const m = openMergerOn(ctx);
  try {
    for (let f = from; f < from + frames; f++) {
      putDeltas(ctx, [0, 1].map((w) => ({
        bytes: Buffer.from(JSON.stringify({ frame: f, writer: `w${w}`, utc: utc(f, w), counters: { n: 1 }, set: { agents: { [`w${w}`]: { at: f } } }, items: { log: Array.from({ length: items }, (_, i) => ({ id: `${f}.${w}.${i}`, v: 'x'.repeat(20) })) } })),
        source: `w${w}@${f}`,
      })));
      m.merge({ through: f });
    }
  } finally {
    m.close();
  }
}

const du = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((a, e) => a + (e.isDirectory() ? du(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);

describe('checkpoints (PROTOCOL v1.1 §3)', () => {
  const ctx = initStore(join(root, 'grow'));
  grow(ctx, 1, 300, 20);
  const records = readMergeRecords(ctx).map((r) => r.value);
  const checkpoints = records.filter((r) => r.state_sha256 !== undefined);

  it('are few: a state that doubles between checkpoints gives a logarithmic number of them, each with a snapshot', () => {
    expect(records).toHaveLength(300);
    expect(checkpoints.length).toBeGreaterThan(3);
    expect(checkpoints.length).toBeLessThan(20); // log2(300) ≈ 8, plus the first merges
    expect(records[0].state_sha256).toBeDefined(); // the first merge: nothing to start from
    // Snapshots exist only at checkpoints (old ones may have been thinned).
    for (const f of listSnapshotFrames(ctx.layout)) expect(checkpoints.map((r) => r.frame)).toContain(f);
    expect(listSnapshotFrames(ctx.layout).at(-1)).toBe(checkpoints.at(-1)!.frame);
  });

  it('match what `framelog state --at N` prints, for every checkpoint', () => {
    for (const r of checkpoints) {
      const out = execFileSync(process.execPath, [CLI, 'state', '--at', String(r.frame), '--dir', ctx.layout.root], { encoding: 'utf8' });
      expect(sha(out.replace(/\n$/, '')), `frame ${r.frame}`).toBe(r.state_sha256);
    }
  });

  it('keep the store within 3× its archived deltas, snapshots within the budget', () => {
    const archived = archiveBytes(ctx.layout);
    const snaps = du(ctx.layout.snapshots);
    const frames = listSnapshotFrames(ctx.layout);
    const newest = statSync(join(ctx.layout.snapshots, `frame-${String(frames.at(-1)).padStart(9, '0')}.json`)).size;
    expect(snaps - newest + du(ctx.layout.journal)).toBeLessThanOrEqual(SNAPSHOT_BUDGET * archived); // the newest always stays
    const store = du(ctx.layout.journal) + du(ctx.layout.archive) + snaps;
    expect(store / archived).toBeLessThanOrEqual(3);
    expect(verifyStore(ctx).ok).toBe(true);
  });

  it('give the same state at every frame as a replay from nothing (snapshots deleted)', () => {
    const bare = join(root, 'bare');
    cpSync(ctx.layout.root, bare, { recursive: true });
    rmSync(join(bare, 'snapshots'), { recursive: true });
    const b = openStoreContext(bare);
    for (const f of [1, 2, 17, 64, 150, 299, 300]) expect(canonicalJson(toState(loadStateAt(b, f)) as unknown as JsonValue)).toBe(canonicalJson(toState(loadStateAt(ctx, f)) as unknown as JsonValue));
  });
});

describe('verify, with state hashes on checkpoints only', () => {
  const base = initStore(join(root, 'tamper-base'));
  grow(base, 1, 40, 2);
  const between = readMergeRecords(base).map((r) => r.value).filter((r) => r.state_sha256 === undefined).map((r) => r.frame);
  const copy = (name: string): StoreContext => {
    cpSync(base.layout.root, join(root, name), { recursive: true });
    return openStoreContext(join(root, name));
  };

  it('catches an edited delta of a merge that has no state hash', () => {
    expect(between.length).toBeGreaterThan(10);
    const c = copy('edit-delta');
    const seg = join(c.layout.archive, `merge-${String(between[3]).padStart(9, '0')}.ndjson`);
    writeFileSync(seg, readFileSync(seg, 'utf8').replace('"counters":{"n":1}', '"counters":{"n":2}'));
    const r = verifyStore(c);
    expect(r.ok).toBe(false);
    expect(r.faults[0].file).toMatch(/^archive\/merge-\d{9}\.ndjson/);
  });

  it('catches a dropped and a reordered record', () => {
    const c = copy('drop-record');
    const lines = readFileSync(c.layout.merges, 'utf8').split('\n').filter(Boolean);
    writeFileSync(c.layout.merges, [...lines.slice(0, 5), ...lines.slice(6)].map((l) => l + '\n').join(''));
    expect(verifyStore(c).ok).toBe(false);
    const d = copy('reorder-record');
    writeFileSync(d.layout.merges, [...lines.slice(0, 5), lines[6], lines[5], ...lines.slice(7)].map((l) => l + '\n').join(''));
    expect(verifyStore(d).ok).toBe(false);
  });

  it('catches an edited snapshot (compared whole, stamps included)', () => {
    const c = copy('edit-snapshot');
    const f = listSnapshotFrames(c.layout).at(-1)!;
    const p = join(c.layout.snapshots, `frame-${String(f).padStart(9, '0')}.json`);
    writeFileSync(p, readFileSync(p, 'utf8').replace('"counters":{"n":', '"counters":{"n":1'));
    const r = verifyStore(c);
    expect(r.ok).toBe(false);
    expect(r.faults.some((x) => x.file.startsWith('snapshots/'))).toBe(true);
  });
});

describe('a store written before v1.1 (archive folders, v1 snapshots, snapshotEvery 1)', () => {
  const fixture = fileURLToPath(new URL('../testing/v1-store', import.meta.url));
  const states = JSON.parse(readFileSync(fileURLToPath(new URL('../testing/v1-store.states.json', import.meta.url)), 'utf8')) as Record<string, unknown>;

  it('opens with the same state at every frame, verifies, and merges on', () => {
    const dir = join(root, 'v1');
    cpSync(fixture, dir, { recursive: true });
    const ctx = openStoreContext(dir);
    expect(existsSync(join(dir, 'archive', 'merge-000000001'))).toBe(true);
    for (const [f, want] of Object.entries(states)) expect(canonicalJson(toState(loadStateAt(ctx, Number(f))) as unknown as JsonValue)).toBe(canonicalJson(want as JsonValue));
    const before = verifyStore(ctx);
    expect(before.faults).toEqual([]);
    expect(before.snapshots).toBe(4); // version-1 snapshots compared whole
    grow(ctx, 5, 3, 1);
    expect(existsSync(join(dir, 'archive', 'merge-000000005.ndjson'))).toBe(true);
    const after = verifyStore(ctx);
    expect(after.faults).toEqual([]);
    expect(after.merges).toBe(7);
    // Its plan still says snapshotEvery 1, so every new merge is a checkpoint, as that plan asks.
    expect(readMergeRecords(ctx).slice(4).every((r) => r.value.state_sha256 !== undefined)).toBe(true);
  });

  it('its conflicts, written without ids, get the ids of their place and can be resolved (PROTOCOL v1.1 §2a)', async () => {
    const dir = join(root, 'v1-resolve');
    cpSync(fixture, dir, { recursive: true });
    const s = await openStore(dir);
    const before = await s.conflicts({ open: true });
    expect(before.map((c) => c.conflict)).toEqual(['m1.0', 'm2.0', 'm3.0', 'm4.0']);
    await s.resolve({ ids: ['m2.0'], choice: { keep: true }, as: 'human.ana' });
    await s.merge();
    expect((await s.conflicts({ open: true })).map((c) => c.conflict)).toEqual(['m1.0', 'm3.0', 'm4.0']);
    expect((await s.verify()).faults).toEqual([]);
  });
});
