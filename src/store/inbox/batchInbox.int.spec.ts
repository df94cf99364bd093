// PROTOCOL v1.1 §3: a `*.ndjson` inbox file holds a batch, one delta per non-empty line, each judged
// on its own; a bad line is quarantined as a file of its own named after the batch and its line.
// A batch whose lines close in different merges (`--through`, watch mode) loses nothing and
// applies nothing twice: lines that wait become files of their own before the batch goes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { givenStore } from '../../testing/given.js';
import { readArchiveEntries } from '../history/archive.js';

const line = (frame: number, writer: string, n: number | string): string => JSON.stringify({ frame, writer, utc: `2026-04-19T14:00:0${frame}Z`, counters: { n } });
const inbox = (dir: string): string[] => readdirSync(join(dir, 'inbox')).filter((n) => !n.startsWith('.')).sort();

describe('batch inbox files', () => {
  it('put of several deltas writes one batch file; the same batch again writes nothing', async () => {
    const s = await givenStore();
    const deltas = [line(1, 'a', 1), line(1, 'b', 2), line(2, 'a', 3)];
    const r = await s.put(...deltas);
    expect(new Set(r.map((x) => x.file)).size).toBe(1);
    expect(r.map((x) => x.line)).toEqual([1, 2, 3]);
    expect(inbox(s.dir)).toEqual([r[0].file.slice('inbox/'.length)]);
    expect(readFileSync(join(s.dir, r[0].file), 'utf8')).toBe(deltas.map((d) => d + '\n').join(''));
    const again = await s.put(...deltas);
    expect(again.every((x) => !x.written)).toBe(true);
    expect(inbox(s.dir)).toHaveLength(1);
    s.dispose();
  });

  it('lines for a later frame wait as files of their own, and are applied once', async () => {
    const s = await givenStore();
    s.drop('mixed.ndjson', [line(1, 'a', 1), '', line(2, 'a', 10), '{"frame":1,"writer":"b","utc":"2026-04-19T14:00:01Z","counters":{"n":"x"}}', line(1, 'c', 100)].join('\n') + '\n');
    const first = await s.merge({ through: 1 });
    expect(first).toHaveLength(1);
    expect(first[0].applied.map((a) => a.writer)).toEqual(['a', 'c']);
    expect(first[0].quarantined).toEqual([{ file: 'mixed.line-4.json', why: expect.stringContaining('counters.n') }]);
    // The batch is gone; its frame-2 line waits under the name put gives a delta of its own.
    const waiting = inbox(s.dir);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatch(/^frame-000002\.a\.0\.[0-9a-f]{12}\.json$/);
    expect(readFileSync(join(s.dir, 'inbox', waiting[0]), 'utf8')).toBe(line(2, 'a', 10));
    expect(readdirSync(join(s.dir, 'quarantine')).sort()).toEqual(['mixed.line-4.json', 'mixed.line-4.json.why.json']);
    const second = await s.merge();
    expect(second.map((r) => [r.frame, r.applied.length, r.duplicates.length])).toEqual([[2, 1, 0]]);
    expect((await s.state()).counters).toEqual({ n: 111 });
    expect(inbox(s.dir)).toEqual([]);
    expect((await s.verify()).ok).toBe(true);
    s.dispose();
  });

  it('archives a batch line under the same name whether it came alone or in a batch', async () => {
    const a = await givenStore(), b = await givenStore();
    const deltas = [line(1, 'a', 1), line(1, 'b', 2)];
    await a.put(deltas[0]);
    await a.put(deltas[1]);
    await b.put(...deltas);
    await a.merge();
    await b.merge();
    const entries = (s: typeof a) => readArchiveEntries(s.store.context, 1).entries.map((e) => [e.name, Buffer.from(e.bytes).toString()]);
    expect(entries(b)).toEqual(entries(a));
    // The delta lines are the same bytes (the commit lines hold each store's own merge record).
    const deltaLines = (s: typeof a) => readFileSync(join(s.dir, 'archive', 'merge-000000001.ndjson'), 'utf8').split('\n').filter((l) => l.startsWith('{"name":'));
    expect(deltaLines(b)).toEqual(deltaLines(a));
    a.dispose();
    b.dispose();
  });

  it('bad lines are quarantined even when no frame closes, and the good lines of that batch wait', async () => {
    const s = await givenStore();
    s.drop('late.ndjson', [line(5, 'a', 1), 'not json'].join('\n'));
    expect(await s.merge({ through: 3 })).toEqual([]);
    expect(readdirSync(join(s.dir, 'quarantine')).sort()).toEqual(['late.line-2.json', 'late.line-2.json.why.json']);
    expect(inbox(s.dir)).toEqual([expect.stringMatching(/^frame-000005\.a\.0\./)]);
    const r = await s.merge();
    expect(r.map((x) => [x.frame, x.applied.length])).toEqual([[5, 1]]);
    expect((await s.verify()).ok).toBe(true);
    s.dispose();
  });
});
