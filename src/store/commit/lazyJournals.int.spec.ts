// The merge commit in one sync: the segment's commit line is the merge's durable copy of its
// journal lines; journals that lost unsynced lines to a power cut are appended again from it; a
// segment torn before its sync is removed and its deltas merge again.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toState } from '../../merge/canonicalState.js';
import { readSegmentCommit, segmentName } from '../history/archiveSegment.js';
import { readLagMarker, SETTLE_EVERY } from './lazyJournals.js';
import { openMergerOn, type Merger } from '../openStore.js';
import { putDeltas } from '../inbox/putDeltas.js';
import { loadStateAt } from '../history/stateAt.js';
import { initStore, openStoreContext, type StoreContext } from '../storeContext.js';
import { verifyStore } from '../history/verifyStore.js';

const root = mkdtempSync(join(tmpdir(), 'framelog-lazy-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const utc = (f: number, w: number): string => new Date(Date.UTC(2026, 0, 1) + f * 1000 + w).toISOString();

/** Frame f: two writers that count, add items and set the same field (so every merge has a conflict and events). */
function putFrame(ctx: StoreContext, f: number): void {
  putDeltas(ctx, [0, 1].map((w) => ({
    bytes: Buffer.from(JSON.stringify({
      frame: f, writer: `w${w}`, utc: utc(f, w), counters: { n: 1 }, set: { agents: { a: { at: f * 10 + w } } },
      items: { log: [{ id: `${f}.${w}`, v: 'x'.repeat(30) }] }, events: [{ type: 'tick', f }],
    })),
    source: `w${w}@${f}`,
  })));
}

function mergeFrames(ctx: StoreContext, m: Merger, from: number, to: number): void {
  for (let f = from; f <= to; f++) {
    putFrame(ctx, f);
    m.merge({ through: f, now: () => Date.UTC(2026, 0, 1) + f * 1000 + 500 });
  }
}

const journals = ['merges.ndjson', 'conflicts.ndjson', 'events.ndjson', 'plans.ndjson'];
const readJournals = (dir: string): Record<string, string> => Object.fromEntries(journals.map((j) => [j, readFileSync(join(dir, 'journal', j), 'utf8')]));

/** A copy of the store as a crash would leave it: the merger's lock gone with its process. */
function crashCopy(ctx: StoreContext, name: string): string {
  const dir = join(root, name);
  cpSync(ctx.layout.root, dir, { recursive: true });
  rmSync(join(dir, ctx.layout.lock.slice(ctx.layout.root.length + 1)), { force: true });
  return dir;
}

describe('the merge commit in one sync', () => {
  const ctx = initStore(join(root, 'live'));
  const m = openMergerOn(ctx);
  mergeFrames(ctx, m, 1, 12);
  const full = readJournals(ctx.layout.root);
  const marker = readLagMarker(ctx)!;

  it('ends each segment in a commit line holding exactly what the merge appended to the journals', () => {
    const lines = full['merges.ndjson'].trimEnd().split('\n');
    const conflicts = full['conflicts.ndjson'].trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    for (let f = 1; f <= 12; f++) {
      const seg = readFileSync(join(ctx.layout.root, segmentName(f)));
      const c = readSegmentCommit(seg)!;
      expect(c.record).toBe(lines[f - 1]);
      expect(c.conflicts.trimEnd().split('\n')).toEqual(conflicts.filter((l) => JSON.parse(l).merge === f));
      expect(c.events).not.toBe('');
      // jq-readable: every line of a segment is one JSON object.
      for (const l of seg.toString().trimEnd().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
    }
    // The journals lag: a marker names the last merge whose lines were durable (none here).
    expect(marker).toMatchObject({ frame: null, sizes: { merges: 0 } });
  });

  it('appends again, byte for byte, journal lines a power cut took (any prefix of each journal, torn lines too)', () => {
    const cuts = [0, 0.3, 0.5, 0.77, 0.999];
    for (const [i, cut] of cuts.entries()) {
      const dir = crashCopy(ctx, `cut-${i}`);
      for (const [k, j] of journals.entries()) {
        const from = marker.sizes[j.replace('.ndjson', '') as keyof typeof marker.sizes];
        const size = statSync(join(dir, 'journal', j)).size;
        // Each journal cut at its own point: they are separate files, a power cut keeps any prefix of each.
        truncateSync(join(dir, 'journal', j), Math.floor(from + (size - from) * ((cut + k * 0.21) % 1)));
      }
      const copy = openStoreContext(dir);
      const m2 = openMergerOn(copy); // recovery
      m2.close();
      expect(readJournals(dir)).toEqual(full);
      expect(readLagMarker(copy)).toBeUndefined();
      expect(verifyStore(copy)).toMatchObject({ ok: true, merges: 12 });
      expect(toState(loadStateAt(copy))).toEqual(toState(loadStateAt(ctx)));
    }
  });

  it('removes a segment torn before its sync returned: its deltas are still in the inbox and merge again', () => {
    putFrame(ctx, 13);
    const dir = crashCopy(ctx, 'torn');
    m.merge({ through: 13, now: () => Date.UTC(2026, 0, 1) + 13_500 });
    const seg = readFileSync(join(ctx.layout.root, segmentName(13)));
    for (const keep of [seg.length - 1, Math.floor(seg.length / 2), 10]) {
      const d = `${dir}-${keep}`;
      cpSync(dir, d, { recursive: true });
      writeFileSync(join(d, segmentName(13)), seg.subarray(0, keep));
      const copy = openStoreContext(d);
      const m2 = openMergerOn(copy);
      try {
        expect(readdirSync(join(d, 'archive'))).not.toContain('merge-000000013.ndjson');
        expect(readdirSync(join(d, 'inbox'))).toHaveLength(1); // the frame's batch
        m2.merge({ through: 13, now: () => Date.UTC(2026, 0, 1) + 13_500 });
      } finally {
        m2.close();
      }
      expect(readFileSync(join(d, segmentName(13)))).toEqual(seg);
      expect(readJournals(d)).toEqual(readJournals(ctx.layout.root));
      expect(verifyStore(copy).ok).toBe(true);
    }
    // Whole and synced, but the merger died before appending to the journals and removing the
    // batch it took: recovery appends the lines and removes the batch.
    const d = `${dir}-whole`;
    cpSync(dir, d, { recursive: true });
    writeFileSync(join(d, segmentName(13)), seg);
    const copy = openStoreContext(d);
    openMergerOn(copy).close();
    expect(readdirSync(join(d, 'inbox'))).toEqual([]);
    expect(readJournals(d)).toEqual(readJournals(ctx.layout.root));
    expect(verifyStore(copy).ok).toBe(true);
  });

  it('makes the journals durable every few merges and at close, and clears the marker', () => {
    // Merges 1–13 lag so far; the journals are settled after the SETTLE_EVERY-th.
    mergeFrames(ctx, m, 14, SETTLE_EVERY);
    expect(readLagMarker(ctx)).toBeUndefined();
    mergeFrames(ctx, m, SETTLE_EVERY + 1, SETTLE_EVERY + 2);
    expect(readLagMarker(ctx)?.frame).toBe(SETTLE_EVERY);
    m.close();
    expect(readLagMarker(ctx)).toBeUndefined();
    expect(verifyStore(ctx)).toMatchObject({ ok: true, merges: SETTLE_EVERY + 2 });
  });

  it('verify names a commit line that differs from its merge record', () => {
    const dir = crashCopy(ctx, 'tamper');
    const p = join(dir, segmentName(5));
    writeFileSync(p, readFileSync(p, 'utf8').replace(/("record":\{"frame":5,.*?"utc":")([^"]+)/, '$12026-06-06T00:00:00.000Z'));
    expect(verifyStore(openStoreContext(dir)).faults).toEqual([expect.objectContaining({ file: segmentName(5), message: expect.stringContaining('commit line') })]);
  });
});
