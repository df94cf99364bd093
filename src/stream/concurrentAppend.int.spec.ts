import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanStreamBatches } from './scanStream.js';
import { compiledForTests } from './testing/compiledForTests.js';
import { givenEmptyStore, removeStores } from './testing/streamFixtures.js';

afterAll(removeStores);

// FRAMELOG_STREAM_STRESS=full runs the acceptance size: 16 processes × 20,000 appends.
const full = process.env.FRAMELOG_STREAM_STRESS === 'full';
const WRITERS = 16;
const PER_WRITER = full ? 20_000 : 1_000;

describe('many processes, one stream', () => {
  it(`${WRITERS} processes × ${PER_WRITER} appends of 100 B–64 KB never interleave, lose or reorder`, async () => {
    const dir = givenEmptyStore('concurrent');
    const child = path.join(compiledForTests(), 'stream/testing/appendChild.js');
    const modes = ['fsync', 'batch', 'none'] as const;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: WRITERS }, (_, w) =>
        run(child, {
          dir,
          stream: 'receipts',
          writer: `w${w}`,
          count: PER_WRITER,
          minBytes: 100,
          maxBytes: 64 * 1024,
          durability: modes[w % modes.length],
          seed: 1000 + w,
        }),
      ),
    );
    const elapsed = Date.now() - started;

    const nextI = new Map<string, number>();
    let over4k = 0;
    const corrupt: unknown[] = [];
    const scan = scanStreamBatches(path.join(dir, 'streams/receipts.ndjson'), { onCorrupt: (c) => corrupt.push(c) });
    let step = await scan.next();
    while (!step.done) {
      for (const r of step.value) {
        const w = r.record['w'] as string;
        const i = r.record['i'] as number;
        expect(i).toBe(nextI.get(w) ?? 0); // each writer's own order kept, nothing lost or doubled
        nextI.set(w, i + 1);
        expect((r.record['pad'] as string).length).toBe(r.record['n']);
        if (r.next - r.cursor > 4096) over4k++;
      }
      step = await scan.next();
    }
    const summary = step.value;
    expect(corrupt).toEqual([]);
    expect(summary.partialTailBytes).toBe(0);
    expect(summary.records).toBe(WRITERS * PER_WRITER);
    for (let w = 0; w < WRITERS; w++) expect(nextI.get(`w${w}`)).toBe(PER_WRITER);
    expect(over4k).toBeGreaterThan(summary.records / 3);
    expect(fs.existsSync(path.join(dir, 'quarantine'))).toBe(false);
    console.log(`${WRITERS}×${PER_WRITER} appends, ${(summary.end / 1e6).toFixed(1)} MB, ${over4k} records over 4 KB, in ${(elapsed / 1000).toFixed(1)} s`);
  }, full ? 3_600_000 : 120_000);
});

function run(script: string, args: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(args)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`appender exited ${code}: ${err}`))));
  });
}
