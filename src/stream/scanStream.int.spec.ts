import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { followStream } from './followStream.js';
import { listStreams } from './listStreams.js';
import { openStreamAppender } from './openStreamAppender.js';
import type { CorruptLine, ScannedRecord } from './ScannedRecord.js';
import { scanStream, type ScanOptions } from './scanStream.js';
import { tailStream } from './tailStream.js';
import { givenEmptyStore, removeStores } from './testing/streamFixtures.js';

afterAll(removeStores);

function givenStreamFile(content: string): string {
  const dir = givenEmptyStore('scan');
  fs.mkdirSync(path.join(dir, 'streams'));
  const file = path.join(dir, 'streams/s.ndjson');
  fs.writeFileSync(file, content);
  return file;
}

async function readAll(file: string, options: ScanOptions = {}) {
  const records: ScannedRecord[] = [];
  const it = scanStream(file, options);
  let step = await it.next();
  while (!step.done) {
    records.push(step.value);
    step = await it.next();
  }
  return { records, summary: step.value };
}

const rec = (i: number, extra = ''): string => `{"ts":"2026-04-19T14:30:0${i}Z","type":"t${i % 2}","i":${i}${extra}}\n`;

describe('scanStream', () => {
  it('yields every record with its cursor, across chunk boundaries and lines longer than a chunk', async () => {
    const content = rec(0) + rec(1, `,"pad":"${'é'.repeat(100)}"`) + rec(2) + rec(3);
    const file = givenStreamFile(content);
    for (const chunkBytes of [7, 64, 1 << 20]) {
      const { records, summary } = await readAll(file, { chunkBytes });
      expect(records.map((r) => r.record['i'])).toEqual([0, 1, 2, 3]);
      expect(records[1]!.cursor).toBe(records[0]!.next);
      expect(Buffer.from(content).subarray(records[2]!.cursor, records[2]!.next).toString()).toBe(rec(2));
      expect(summary).toEqual({ lines: 4, records: 4, corrupt: 0, end: Buffer.byteLength(content), partialTailBytes: 0 });
    }
  });

  it('closes the file when the reader stops early', async () => {
    const file = givenStreamFile(rec(0) + rec(1) + rec(2));
    const it = scanStream(file);
    for await (const r of it) if (r.record['i'] === 0) break;
    expect(await it.next()).toMatchObject({ done: true });
    const fds = fs.readdirSync('/proc/self/fd').map((fd) => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
    expect(fds).not.toContain(file);
  });

  it('never yields a partial last line', async () => {
    const file = givenStreamFile(rec(0) + '{"ts":"2026-04-19T14:30:01Z","i":1');
    const { records, summary } = await readAll(file, { chunkBytes: 16 });
    expect(records).toHaveLength(1);
    expect(summary.partialTailBytes).toBe(34);
    expect(summary.end).toBe(rec(0).length);
  });

  it('reports a corrupt line with file and line number, skips and counts it', async () => {
    const file = givenStreamFile(rec(0) + '{"broken":\n' + rec(2) + '[1,2]\n\n' + rec(5) + '{"bad":"\xff"}\n');
    fs.writeFileSync(file, Buffer.concat([Buffer.from(rec(0) + '{"broken":\n' + rec(2) + '[1,2]\n\n' + rec(5)), Buffer.from([0x7b, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x0a])]));
    const corrupt: CorruptLine[] = [];
    const { records, summary } = await readAll(file, { onCorrupt: (c) => corrupt.push(c) });
    expect(records.map((r) => r.record['i'])).toEqual([0, 2, 5]);
    expect(summary.corrupt).toBe(4);
    expect(corrupt.map((c) => [c.line, c.reason.split(' (')[0]])).toEqual([
      [2, 'not JSON'],
      [4, 'not a JSON object'],
      [5, 'empty line'],
      [7, 'not valid UTF-8'],
    ]);
    expect(corrupt[0]).toMatchObject({ file, offset: rec(0).length, length: 10 });
  });

  it('numbers corrupt lines from the file start when resuming from a cursor', async () => {
    const file = givenStreamFile(rec(0) + rec(1) + rec(2) + 'oops\n' + rec(4));
    const corrupt: CorruptLine[] = [];
    const { records } = await readAll(file, { from: rec(0).length * 2, onCorrupt: (c) => corrupt.push(c) });
    expect(records.map((r) => r.record['i'])).toEqual([2, 4]);
    expect(corrupt[0]!.line).toBe(4);
  });

  it('resumes from a cursor and refuses one that is not at a line start', async () => {
    const file = givenStreamFile(rec(0) + rec(1) + rec(2));
    const first = await readAll(file);
    const resumed = await readAll(file, { from: first.records[0]!.next });
    expect(resumed.records.map((r) => r.record['i'])).toEqual([1, 2]);
    expect((await readAll(file, { from: first.summary.end })).records).toEqual([]);
    await expect(readAll(file, { from: 5 })).rejects.toThrow(/cursor 5 is not at the start of a record/);
    await expect(readAll(file, { from: 10_000 })).rejects.toThrow(/past the end/);
  });

  it('filters by type, time range (as instants) and field', async () => {
    const file = givenStreamFile(
      '{"ts":"2026-04-19T14:30:00Z","type":"a","n":1}\n' +
        '{"ts":"2026-04-19T14:30:00.5Z","type":"b","n":2}\n' +
        '{"ts":"2026-04-19T16:30:01+02:00","type":"a","n":3}\n' +
        '{"type":"a","n":4}\n',
    );
    const pick = async (options: ScanOptions) => (await readAll(file, options)).records.map((r) => r.record['n']);
    expect(await pick({ filter: { types: ['a'] } })).toEqual([1, 3, 4]);
    expect(await pick({ filter: { since: '2026-04-19T14:30:00.1Z' } })).toEqual([2, 3]);
    expect(await pick({ filter: { until: '2026-04-19T14:30:00.5Z' } })).toEqual([1]);
    expect(await pick({ filter: { where: [{ path: ['n'], value: 3 }] } })).toEqual([3]);
    expect(await pick({ filter: (r) => r['n'] === 4 })).toEqual([4]);
  });
});

describe('tailStream', () => {
  it('reads the last n records backwards, skipping a partial last line and corrupt lines', () => {
    let content = '';
    for (let i = 0; i < 5000; i++) content += rec(i % 10, `,"k":${i}`);
    const file = givenStreamFile(content + 'garbage\n' + rec(1, ',"k":5000') + '{"partial":');
    const corrupt: CorruptLine[] = [];
    const t = tailStream(file, 3, { onCorrupt: (c) => corrupt.push(c) });
    expect(t.records.map((r) => r.record['k'])).toEqual([4998, 4999, 5000]);
    expect(corrupt.map((c) => c.line)).toEqual([5001]);
    expect(t.end).toBe(fs.statSync(file).size - '{"partial":'.length);
    expect(tailStream(file, 0).records).toEqual([]);
    expect(tailStream(file, 10_000).records).toHaveLength(5001);
    expect(tailStream(givenStreamFile(''), 10).records).toEqual([]);
    expect(tailStream(givenStreamFile('{"a":1}'), 10)).toEqual({ records: [], end: 0 });
  });

  it('handles a record longer than its read block', () => {
    const big = `{"big":"${'x'.repeat(200_000)}"}\n`;
    const file = givenStreamFile(rec(0) + big + rec(2));
    expect(tailStream(file, 2).records.map((r) => r.line.length)).toEqual([big.length - 1, rec(2).length - 1]);
  });
});

describe('followStream', () => {
  it('yields new records as they come, and follows a replacement of the file', async () => {
    const dir = givenEmptyStore('follow');
    const a = openStreamAppender(dir, 'f', { durability: 'none' });
    await a.append({ i: 0 });
    const file = path.join(dir, 'streams/f.ndjson');
    const stop = new AbortController();
    const restarts: string[] = [];
    const seen: unknown[] = [];
    const done = (async () => {
      for await (const r of followStream(file, { signal: stop.signal, pollMs: 20, onRestart: (w) => restarts.push(w) })) {
        seen.push(r.record['i']);
        if (seen.length === 4) stop.abort();
      }
    })();
    await a.append({ i: 1 });
    fs.appendFileSync(file, '{"i":'); // a write in progress is not yielded
    await new Promise((r) => setTimeout(r, 100));
    fs.appendFileSync(file, '2}\n');
    await new Promise((r) => setTimeout(r, 100));
    fs.writeFileSync(file + '.tmp', '{"i":3}\n');
    fs.renameSync(file + '.tmp', file);
    await done;
    await a.close();
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(restarts).toEqual(['replaced']);
  });
});

describe('listStreams', () => {
  it('lists name, records, bytes and last time; ignores other files', async () => {
    const dir = givenEmptyStore('list');
    const a = openStreamAppender(dir, 'b', { durability: 'batch' });
    await a.appendBatch([{ i: 0 }, { i: 1, ts: '2026-01-01T00:00:00Z' }]);
    await a.close();
    const e = openStreamAppender(dir, 'a');
    await e.close();
    fs.writeFileSync(path.join(dir, 'streams/notes.txt'), 'x');
    expect(listStreams(dir)).toEqual([
      { name: 'a', records: 0, bytes: 0, lastTs: null },
      { name: 'b', records: 2, bytes: fs.statSync(path.join(dir, 'streams/b.ndjson')).size, lastTs: '2026-01-01T00:00:00Z' },
    ]);
    expect(listStreams(path.join(dir, 'nothing'))).toEqual([]);
  });
});
