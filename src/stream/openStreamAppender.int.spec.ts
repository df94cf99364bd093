import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStreamAppender } from './openStreamAppender.js';
import type { FragmentReport } from './quarantineFragment.js';
import { givenEmptyStore, removeStores } from './testing/streamFixtures.js';

afterAll(removeStores);

const lines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n').slice(0, -1);

describe('openStreamAppender', () => {
  it.each(['fsync', 'batch', 'none'] as const)('appends in call order with cursors (%s)', async (durability) => {
    const dir = givenEmptyStore('append');
    const a = openStreamAppender(dir, 'receipts', { durability });
    const results = await Promise.all([a.append({ type: 'task_started', i: 0 }), a.appendBatch([{ i: 1 }, { i: 2 }]), a.append({ i: 3 })]);
    await a.close();
    const file = path.join(dir, 'streams/receipts.ndjson');
    const got = lines(file).map((l) => JSON.parse(l) as { i: number; ts: string });
    expect(got.map((r) => r.i)).toEqual([0, 1, 2, 3]);
    expect(got.every((r) => /Z$/.test(r.ts))).toBe(true);
    expect(results[0]!.cursor).toBe(0);
    expect(results[1]).toMatchObject({ cursor: results[0]!.next, count: 2 });
    expect(results[2]!.next).toBe(fs.statSync(file).size);
  });

  it('joins appends waiting at the same time into one write in batch mode', async () => {
    const dir = givenEmptyStore('batch');
    const a = openStreamAppender(dir, 'audit', { durability: 'batch' });
    const writes: number[] = [];
    const orig = fs.writeSync;
    (fs as { writeSync: typeof fs.writeSync }).writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
      if (args[0] !== undefined) writes.push(1);
      return orig(...args);
    }) as typeof fs.writeSync;
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => a.append({ i })));
    } finally {
      (fs as { writeSync: typeof fs.writeSync }).writeSync = orig;
    }
    await a.close();
    expect(lines(path.join(dir, 'streams/audit.ndjson'))).toHaveLength(50);
    expect(writes.length).toBeLessThanOrEqual(2); // usually one; a second when appends arrive during the first sync
  });

  it('refuses a bad record without touching the stream, and keeps a batch all or nothing', async () => {
    const dir = givenEmptyStore('refuse');
    const a = openStreamAppender(dir, 'r', { maxRecordBytes: 200 });
    await a.append({ ok: 1 });
    const file = path.join(dir, 'streams/r.ndjson');
    const before = fs.readFileSync(file);
    await expect(a.appendBatch([{ ok: 2 }, { big: 'x'.repeat(300) }])).rejects.toThrow(/record 2 of 2 is \d+ bytes, over the limit of 200/);
    await expect(a.append([] as never)).rejects.toThrow(/not a JSON object/);
    await expect(a.append({ n: Infinity })).rejects.toThrow(/finite/);
    await a.close();
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    await expect(a.append({})).rejects.toThrow(/closed/);
  });

  it('moves a torn tail to quarantine/streams/ before appending, with where it came from', async () => {
    const dir = givenEmptyStore('torn');
    const a = openStreamAppender(dir, 'audit');
    await a.append({ i: 0 });
    const file = path.join(dir, 'streams/audit.ndjson');
    const size = fs.statSync(file).size;
    fs.appendFileSync(file, '{"ts":"2026-01-01T00:00:00Z","i":1,"pad":"xxxx');
    const reports: FragmentReport[] = [];
    const b = openStreamAppender(dir, 'audit', { onFragment: (r) => reports.push(r) });
    await b.append({ i: 2 });
    await Promise.all([a.close(), b.close()]);
    expect(lines(file).map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([0, 2]);
    expect(reports).toHaveLength(1);
    const r = reports[0]!;
    expect(r).toMatchObject({ stream: 'audit', file: 'streams/audit.ndjson', offset: size, length: 46, inode: fs.statSync(file).ino });
    expect(fs.readFileSync(path.join(dir, r.bytes), 'utf8')).toBe('{"ts":"2026-01-01T00:00:00Z","i":1,"pad":"xxxx');
    const why = JSON.parse(fs.readFileSync(path.join(dir, r.bytes.replace(/\.fragment$/, '.why.json')), 'utf8')) as FragmentReport;
    expect(why).toEqual(r);
    expect(Number.isNaN(Date.parse(why.time))).toBe(false);
  });

  it('quarantines a tail with no newline at all (the whole file is a fragment)', async () => {
    const dir = givenEmptyStore('torn0');
    fs.mkdirSync(path.join(dir, 'streams'));
    fs.writeFileSync(path.join(dir, 'streams/x.ndjson'), '{"half":');
    const a = openStreamAppender(dir, 'x');
    await a.append({ whole: true });
    await a.close();
    expect(lines(path.join(dir, 'streams/x.ndjson'))).toHaveLength(1);
    expect(fs.readdirSync(path.join(dir, 'quarantine/streams')).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^x\.\d+\.0\.fragment$/)]));
  });

  it('reopens when the file was replaced (new inode), so compaction can swap it', async () => {
    const dir = givenEmptyStore('replace');
    const a = openStreamAppender(dir, 'reg');
    await a.append({ i: 0 });
    const file = path.join(dir, 'streams/reg.ndjson');
    const tmp = file + '.new';
    fs.writeFileSync(tmp, '{"compacted":true}\n');
    fs.renameSync(tmp, file);
    await a.append({ i: 1 });
    fs.unlinkSync(file);
    await a.append({ i: 2 });
    // The old file moved into an archive (it keeps a link) and a new one put in its place.
    const archived = path.join(dir, 'streams/archive');
    fs.mkdirSync(archived);
    fs.renameSync(file, path.join(archived, 'reg.0.ndjson'));
    fs.writeFileSync(file, '');
    await a.append({ i: 3 });
    await a.close();
    expect(lines(path.join(archived, 'reg.0.ndjson')).map((l) => JSON.parse(l) as object)).toEqual([expect.objectContaining({ i: 2 })]);
    expect(lines(file).map((l) => JSON.parse(l) as object)).toEqual([expect.objectContaining({ i: 3 })]);
  });
});
