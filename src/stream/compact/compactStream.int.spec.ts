import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openStreamAppender } from '../openStreamAppender.js';
import { readStream } from '../readStream.js';
import { givenEmptyStore, removeStores } from '../testing/streamFixtures.js';
import { compactStream, type CompactStep } from './compactStream.js';
import { archiveDir, readManifest, writeManifest } from './manifest.js';
import { verifyStreamChain } from './verifyStreamChain.js';
import { verifyStreamSegments } from './verifyStreamSegments.js';
import { followThrough, tailThrough } from './tailThrough.js';

afterAll(removeStores);

function givenChainedStore(): string {
  const dir = givenEmptyStore('compact');
  fs.writeFileSync(path.join(dir, 'framelog.json'), JSON.stringify({ version: 1, streams: { audit: { chain: true } } }));
  return dir;
}

async function appendN(dir: string, from: number, n: number): Promise<number[]> {
  const a = openStreamAppender(dir, 'audit');
  const cursors: number[] = [];
  for (let i = from; i < from + n; i++) cursors.push((await a.append({ type: 'decision', i })).cursor);
  await a.close();
  return cursors;
}

async function all(dir: string): Promise<Array<{ cursor: number; i: number }>> {
  const out = [];
  for await (const e of readStream(dir, 'audit')) out.push({ cursor: e.cursor, i: e.record['i'] as number });
  return out;
}

async function verify(dir: string): Promise<string[]> {
  return [...verifyStreamSegments(dir, 'audit'), ...(await verifyStreamChain(dir, 'audit'))];
}

describe('compaction', () => {
  it('rotates into segments; append cursors, read cursors and the hash chain all carry across', async () => {
    const dir = givenChainedStore();
    const cursors = [...(await appendN(dir, 0, 10))];
    compactStream(dir, 'audit');
    compactStream(dir, 'audit'); // nothing new: no segment
    cursors.push(...(await appendN(dir, 10, 5))); // first append after a compaction: chain anchored in the manifest
    compactStream(dir, 'audit', { gzip: false });
    cursors.push(...(await appendN(dir, 15, 5)));
    const recs = await all(dir);
    expect(recs.map((r) => r.i)).toEqual([...Array(20).keys()]);
    expect(recs.map((r) => r.cursor)).toEqual(cursors);
    expect(readManifest(dir, 'audit')!.segments).toHaveLength(2);
    expect(await verify(dir)).toEqual([]);
    const from12 = await readStream(dir, 'audit', { from: cursors[12]! }).next();
    expect(from12.value!.record['i']).toBe(12);
    await expect(readStream(dir, 'audit', { from: cursors[3]! + 1 }).next()).rejects.toThrow(/does not start a record/);
    expect(compactStream(dir, 'audit', { maxBytes: 1 << 20 }).segment).toBeUndefined();
    expect(compactStream(dir, 'audit', { maxAgeMs: 3_600_000 }).segment).toBeUndefined();
    expect(compactStream(dir, 'audit', { maxAgeMs: 3_600_000, now: Date.now() + 7_200_000 }).segment?.count).toBe(5);
  });

  it('compaction that breaks the hash chain is caught by verify', async () => {
    const dir = givenChainedStore();
    await appendN(dir, 0, 8);
    compactStream(dir, 'audit');
    await appendN(dir, 8, 4);
    expect(await verify(dir)).toEqual([]);
    // A faulty compactor drops a record from the segment and rewrites the manifest to match.
    const m = readManifest(dir, 'audit')!;
    const seg = m.segments[0]!;
    const file = path.join(archiveDir(dir, 'audit'), seg.file);
    const lines = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n').filter(Boolean);
    lines.splice(3, 1);
    const bytes = Buffer.from(lines.join('\n') + '\n');
    fs.writeFileSync(file, zlib.gzipSync(bytes));
    const { createHash } = await import('node:crypto');
    const shrunk = seg.end - seg.first - bytes.length;
    writeManifest(dir, { ...m, segments: [{ ...seg, count: 7, end: seg.end - shrunk, last: seg.last - shrunk, sha256: createHash('sha256').update(bytes).digest('hex') }] });
    const problems = await verify(dir);
    expect(problems.join('\n')).toMatch(/hash chain breaks at cursor/);
    expect(problems.join('\n')).toMatch(/segments end at cursor .* but the live file starts at/);
  });

  it('an archive move that fails and takes data with it: a failure at any step loses nothing, and a lost segment is reported', async () => {
    const dir = givenChainedStore();
    await appendN(dir, 0, 6);
    const steps: CompactStep[] = ['recovered', 'segment-written', 'locked', 'live-written', 'manifest-written'];
    let next = 6;
    for (const step of steps) {
      expect(() => compactStream(dir, 'audit', { onStep: (s) => { if (s === step) throw new Error(`disk full at ${s}`); } })).toThrow(/disk full/);
      expect((await all(dir)).map((r) => r.i)).toEqual([...Array(next).keys()]);
      await appendN(dir, next, 2); // appenders keep going after the failure
      next += 2;
      expect((await all(dir)).map((r) => r.i)).toEqual([...Array(next).keys()]);
    }
    const r = compactStream(dir, 'audit');
    expect(r.segment).toBeDefined();
    expect((await all(dir)).map((x) => x.i)).toEqual([...Array(next).keys()]);
    expect(await verify(dir)).toEqual([]);
    // The archive copy itself going missing is never silent.
    fs.rmSync(path.join(archiveDir(dir, 'audit'), r.segment!.file));
    expect(verifyStreamSegments(dir, 'audit').join('\n')).toMatch(/is missing: its records .* are lost/);
  });

  it('caps line counts and evicts old segments by age; cursors in evicted ranges read on, the chain restarts at the anchor', async () => {
    const dir = givenChainedStore();
    await appendN(dir, 0, 4);
    expect(compactStream(dir, 'audit', { maxLines: 5 }).segment).toBeUndefined();
    await appendN(dir, 4, 2);
    expect(compactStream(dir, 'audit', { maxLines: 5 }).segment?.count).toBe(6);
    const c = await appendN(dir, 6, 6);
    expect(compactStream(dir, 'audit', { maxLines: 5 }).segment?.count).toBe(6);
    await appendN(dir, 12, 3);
    // Everything so far is an hour old by then: both segments go, the live records stay.
    const r = compactStream(dir, 'audit', { maxLines: 100, evictOlderThanMs: 60_000, now: Date.now() + 3_600_000 });
    expect(r.evicted).toHaveLength(2);
    expect((await all(dir)).map((x) => x.i)).toEqual([12, 13, 14]);
    const fromOld = [];
    for await (const e of readStream(dir, 'audit', { from: c[2]! })) fromOld.push(e.record['i']);
    expect(fromOld).toEqual([12, 13, 14]);
    expect(await verify(dir)).toEqual([]);
    await appendN(dir, 15, 2);
    expect(await verify(dir)).toEqual([]);
  });

  it('tail and follow see through compactions: stream cursors, nothing read twice', async () => {
    const dir = givenChainedStore();
    await appendN(dir, 0, 5);
    compactStream(dir, 'audit');
    await appendN(dir, 5, 2);
    const t = await tailThrough(dir, 'audit', 4);
    expect(t.records.map((r) => r.record['i'])).toEqual([3, 4, 5, 6]);
    expect(t.records.map((r) => r.cursor)).toEqual((await all(dir)).slice(3).map((r) => r.cursor));
    const stop = new AbortController();
    const seen: number[] = [];
    const follower = (async () => {
      for await (const e of followThrough(dir, 'audit', { from: 0, signal: stop.signal, pollMs: 20 })) seen.push(e.record['i'] as number);
    })();
    for (let k = 0; k < 6; k++) {
      await appendN(dir, 7 + k * 3, 3);
      if (k % 2 === 0) compactStream(dir, 'audit');
      await new Promise((r) => setTimeout(r, 30));
    }
    for (let waited = 0; seen.length < 25 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await follower;
    expect(seen).toEqual([...Array(25).keys()]);
  });
});
