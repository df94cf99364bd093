import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listSnapshotFrames } from '../history/snapshots.js';
import { copyStore } from './copyStore.js';
import { landDeltas } from '../inbox/landDeltas.js';
import { openMergerOn } from '../openStore.js';
import { loadStateAt } from '../history/stateAt.js';
import { initStore, openStoreContext, type StoreContext } from '../storeContext.js';
import { verifyStore } from '../history/verifyStore.js';

const root = mkdtempSync(join(tmpdir(), 'framelog-copy-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cli = resolve('dist/cli/main.js');

const delta = (frame: number, writer: string, extra: object = {}) =>
  Buffer.from(JSON.stringify({ frame, writer, utc: new Date(Date.UTC(2026, 0, 1, 0, 0, frame)).toISOString(), counters: { n: 1 }, set: { board: { top: { by: writer } } }, items: { posts: [{ id: frame % 3, by: writer }] }, ...extra }));

/** Merges frames `from`–`to` on `ctx`: two writers each, a conflicting redelivery and a bad delta now and then. */
function mergeFrames(ctx: StoreContext, from: number, to: number): void {
  const m = openMergerOn(ctx);
  try {
    for (let f = from; f <= to; f++) {
      const batch = [delta(f, 'w1'), delta(f, 'w2')];
      if (f % 4 === 0) batch.push(delta(f, 'w1', { counters: { n: 9 } })); // same identity, other content
      if (f % 5 === 0) batch.push(Buffer.from('{"frame":'));
      landDeltas(ctx, batch);
      m.merge({ through: f });
    }
  } finally {
    m.close();
  }
}

const files = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : []);
/** A file's bytes (a journal nothing was appended to yet may not exist: empty). */
const bytes = (path: string): Buffer => (existsSync(path) ? readFileSync(path) : Buffer.alloc(0));
const same = (a: StoreContext, b: StoreContext, rel: string): void => expect(bytes(join(b.layout.root, rel))).toEqual(bytes(join(a.layout.root, rel)));

describe('copyStore', () => {
  it('copies the merge history byte for byte (journals, archive, quarantine, snapshots); the copy verifies and gives the same state at every frame', () => {
    const src = initStore(join(root, 'src'), { writers: ['w1', 'w2'], snapshotEvery: 3 });
    mergeFrames(src, 1, 12);
    const r = copyStore(src, join(root, 'copy'), { chunk: 5 });
    expect(r).toEqual({ merges: 12, frame: 12, snapshots: listSnapshotFrames(src.layout).length });
    expect(r.snapshots).toBeGreaterThan(0);
    const copy = openStoreContext(join(root, 'copy'));
    for (const rel of ['journal/merges.ndjson', 'journal/conflicts.ndjson', 'journal/events.ndjson']) same(src, copy, rel);
    expect(files(copy.layout.archive)).toEqual(files(src.layout.archive));
    for (const f of files(src.layout.archive).filter((n) => n.endsWith('.json'))) same(src, copy, join('archive', f));
    expect(files(copy.layout.quarantine)).toEqual(files(src.layout.quarantine));
    expect(files(copy.layout.quarantine).length).toBeGreaterThan(0);
    expect(files(copy.layout.snapshots)).toEqual(files(src.layout.snapshots));
    expect(verifyStore(copy).ok).toBe(true);
    for (let f = 0; f <= 12; f++) expect(loadStateAt(copy, f)).toEqual(loadStateAt(src, f));
    // The copy merges on from where the source was.
    mergeFrames(copy, 13, 13);
    expect(verifyStore(copy).ok).toBe(true);
  });

  it('a merge the source commits during the copy is left out whole, and the copy is consistent', () => {
    const src = initStore(join(root, 'busy'), { writers: ['w1', 'w2'] });
    mergeFrames(src, 1, 6);
    let merged = false;
    const r = copyStore(src, join(root, 'busy-copy'), {
      chunk: 2,
      onProgress: () => {
        if (merged) return;
        merged = true;
        mergeFrames(src, 7, 7); // the source's merger goes on while the copy reads
      },
    });
    expect(merged).toBe(true);
    expect(r).toMatchObject({ merges: 6, frame: 6 });
    const copy = openStoreContext(join(root, 'busy-copy'));
    expect(verifyStore(copy).ok).toBe(true);
    const srcLines = readFileSync(src.layout.merges, 'utf8').split('\n').filter(Boolean);
    expect(readFileSync(copy.layout.merges, 'utf8')).toBe(srcLines.slice(0, 6).join('\n') + '\n');
    expect(files(copy.layout.archive).some((n) => n.includes('merge-000000007'))).toBe(false);
  });

  it('framelog copy: one line, JSON with --json; a destination that is already a store is refused and left alone', () => {
    const src = initStore(join(root, 'cli-src'), { writers: ['w1', 'w2'], snapshotEvery: 1 });
    mergeFrames(src, 1, 2);
    const out = execFileSync(process.execPath, [cli, 'copy', join(root, 'cli-copy'), '--dir', src.layout.root], { encoding: 'utf8' });
    expect(out).toBe(`copied 2 merges (through frame 2) and 2 snapshots from ${src.layout.root} to ${join(root, 'cli-copy')}\n`);
    const again = spawnSync(process.execPath, [cli, 'copy', join(root, 'cli-copy'), '--dir', src.layout.root, '--json'], { encoding: 'utf8' });
    expect(again.status).toBe(1);
    expect(again.stderr).toBe(`framelog: ${join(root, 'cli-copy')}: already a framelog store (framelog.json exists)\n`);
    expect(verifyStore(openStoreContext(join(root, 'cli-copy'))).ok).toBe(true);
  });
});
