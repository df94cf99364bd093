// Issue #20 point 7: an inbox file too large to be a delta (or a batch a merger reads) is set aside
// in quarantine with its reason before a byte of it is read, and the rest merges as usual.
import { closeSync, openSync, ftruncateSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { givenStore } from '../../testing/given.js';

const line = (frame: number, writer: string): string => JSON.stringify({ frame, writer, utc: `2026-04-19T14:00:0${frame}Z`, counters: { n: 1 } });

/** A sparse file of `size` bytes (no disk, and reading it would take seconds and gigabytes). */
function sparse(path: string, size: number): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
}

describe('oversized inbox files', () => {
  it('a 3 GiB delta file and a 300 MiB batch are quarantined unread; the others merge', async () => {
    const s = await givenStore();
    sparse(join(s.dir, 'inbox', 'huge.json'), 3 * 2 ** 30);
    sparse(join(s.dir, 'inbox', 'huge.ndjson'), 300 * 2 ** 20);
    await s.put(line(1, 'a'), line(1, 'b'));
    const rss = process.memoryUsage().rss;
    const t0 = Date.now();
    const [record] = await s.merge();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 2 ** 20);
    expect(record.applied.map((a) => a.writer)).toEqual(['a', 'b']);
    expect(record.quarantined).toEqual([
      { file: 'huge.json', why: `delta is ${3 * 2 ** 30} bytes, over maxDeltaBytes (1048576)` },
      { file: 'huge.ndjson', why: `batch file is ${300 * 2 ** 20} bytes, over the ${256 * 2 ** 20} a merger reads (split it into several batches)` },
    ]);
    expect(readdirSync(join(s.dir, 'inbox')).filter((n) => !n.startsWith('.'))).toEqual([]);
    expect(statSync(join(s.dir, 'quarantine', 'huge.json')).size).toBe(3 * 2 ** 30);
    expect(JSON.parse(readFileSync(join(s.dir, 'quarantine', 'huge.ndjson.why.json'), 'utf8'))).toMatchObject({ file: 'huge.ndjson', why: expect.stringContaining('split it') });
    expect((await s.verify()).ok).toBe(true);
    s.dispose();
  });
});
