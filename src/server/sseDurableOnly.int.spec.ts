// Issue #20 point 4: a stream record is pushed over SSE (and followed by tail -f) only once it is
// durable. The append's fdatasync is delayed, then failed, with strace's fault injection on a real
// `framelog append` process, while an EventSource client follows the stream.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followStream } from '../stream/followStream.js';
import { serve, type Served } from './testing/serverFixture.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const hasStrace = spawnSync('strace', ['-V']).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `framelog append s RECORD` (under strace with `inject` when given); resolves with its exit code. */
function append(dir: string, record: object, inject?: string): Promise<number | null> {
  const args = [CLI, 'append', 's', JSON.stringify(record), '--dir', dir];
  const child = inject
    ? spawn('strace', ['-f', '-o', '/dev/null', '-e', 'trace=fdatasync', '-e', `inject=fdatasync:${inject}`, process.execPath, ...args], { stdio: 'ignore' })
    : spawn(process.execPath, args, { stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const ids = (file: string): number[] => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: number }).id) : []);

describe.runIf(hasStrace)('stream followers see only durable records', () => {
  let s: Served;
  let es: EventSource;
  const got: Array<{ type: string; id?: number }> = [];
  const followed: number[] = [];
  const stop = new AbortController();
  let file = '';
  beforeAll(async () => {
    s = await serve({ pollMs: 20 });
    file = path.join(s.dir, 'streams', 's.ndjson');
    expect(await append(s.dir, { id: 1 })).toBe(0);
    es = new EventSource(`${s.url}/api/streams/s/events?cursor=0`);
    es.addEventListener('record', (e) => got.push({ type: 'record', id: (JSON.parse((e as MessageEvent).data) as { id: number }).id }));
    es.addEventListener('reset', () => got.push({ type: 'reset' }));
    void (async () => {
      for await (const r of followStream(file, { signal: stop.signal, pollMs: 20 })) followed.push((r.record as { id: number }).id);
    })();
    for (let t = 0; got.length < 1 && t < 500; t++) await sleep(20);
  });
  afterAll(async () => {
    stop.abort();
    es?.close();
    await s?.close();
  });

  it('a record written but not yet synced is not pushed; it is once its fdatasync returns', async () => {
    const done = append(s.dir, { id: 2 }, 'delay_enter=1500000'); // the sync waits 1.5 s
    await expect.poll(() => ids(file), { timeout: 10_000 }).toEqual([1, 2]); // written…
    await sleep(600);
    expect(got).toEqual([{ type: 'record', id: 1 }]); // …not pushed
    expect(followed).toEqual([1]);
    expect(await done).toBe(0);
    await expect.poll(() => got.map((g) => g.id), { timeout: 10_000 }).toEqual([1, 2]);
    await expect.poll(() => followed, { timeout: 10_000 }).toEqual([1, 2]);
  });

  it('a record whose sync failed is never pushed, and no reset follows its cut; the next record is pushed', async () => {
    expect(await append(s.dir, { id: 3 }, 'error=EIO')).toBe(1);
    await sleep(600);
    expect(ids(file)).toEqual([1, 2]); // taken back
    expect(await append(s.dir, { id: 4 })).toBe(0);
    await expect.poll(() => got.map((g) => g.id ?? g.type), { timeout: 10_000 }).toEqual([1, 2, 4]);
    await expect.poll(() => followed, { timeout: 10_000 }).toEqual([1, 2, 4]);
    await sleep(300);
    expect(got.some((g) => g.type === 'reset')).toBe(false);
  });
});
