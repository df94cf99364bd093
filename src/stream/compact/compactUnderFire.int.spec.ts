import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStream } from '../readStream.js';
import { compiledForTests } from '../testing/compiledForTests.js';
import { givenEmptyStore, removeStores } from '../testing/streamFixtures.js';
import { compactStream, type CompactStep } from './compactStream.js';
import { readManifest } from './manifest.js';
import { verifyStreamSegments } from './verifyStreamSegments.js';
import { verifyStreams } from './verifyStreams.js';

afterAll(removeStores);

const KILLS = Number(process.env.FRAMELOG_COMPACT_KILLS ?? 60);
const WRITERS = 4;
const STEPS: CompactStep[] = ['recovered', 'segment-written', 'locked', 'live-written', 'manifest-written', 'swapped'];

describe('compaction under fire', () => {
  it(`compaction killed ${KILLS} times while ${WRITERS} appenders write: nothing lost or duplicated, old cursors resolve`, async () => {
    const dir = givenEmptyStore('compact-fire');
    // Hash-chained: every appender extends the chain under the lock, across every swap.
    fs.writeFileSync(path.join(dir, 'framelog.json'), JSON.stringify({ version: 1, streams: { receipts: { chain: true } } }));
    const out = compiledForTests();
    const appendScript = path.join(out, 'stream/testing/appendChild.js');
    const compactScript = path.join(out, 'stream/testing/compactChild.js');
    const count = Number(process.env.FRAMELOG_COMPACT_RECORDS ?? 20_000);
    const writers = Array.from({ length: WRITERS }, (_, w) =>
      start(appendScript, { dir, stream: 'receipts', writer: `w${w}`, count, minBytes: 100, maxBytes: 600, durability: 'fsync', seed: w + 1 }));
    const samples: Array<{ cursor: number; w: string; i: number }> = [];
    let kills = 0;
    let done = 0;
    for (let round = 0; kills < KILLS || writers.some((c) => c.exitCode === null); round++) {
      // Half the kills land on a named step, half at a random moment.
      const dieAt = round % 2 === 0 ? STEPS[(round / 2) % STEPS.length] : undefined;
      const child = start(compactScript, { dir, stream: 'receipts', rounds: 20, ...(dieAt ? { dieAt } : {}) });
      if (!dieAt) setTimeout(() => child.kill('SIGKILL'), 60 + Math.random() * 200);
      await exited(child);
      if (child.signalCode === 'SIGKILL') kills++;
      else done++;
      // Take a cursor now: it must still resolve after every later compaction.
      let k = 0;
      for await (const e of readStream(dir, 'receipts', { from: samples.at(-1)?.cursor ?? 0 })) {
        if (++k % 97 === 0) {
          samples.push({ cursor: e.cursor, w: e.record['w'] as string, i: e.record['i'] as number });
          break;
        }
      }
      if (round > KILLS * 4) break;
    }
    await Promise.all(writers.map(exited));
    expect(writers.every((c) => c.exitCode === 0)).toBe(true);
    compactStream(dir, 'receipts'); // recovers whatever the last kill left, then compacts once more
    const seen = new Map<string, number>();
    let total = 0;
    for await (const e of readStream(dir, 'receipts')) {
      const w = e.record['w'] as string;
      const i = e.record['i'] as number;
      expect(i).toBe(seen.get(w) ?? 0); // per writer: in order, no gap, no duplicate
      seen.set(w, i + 1);
      total++;
    }
    expect(total).toBe(WRITERS * count);
    for (const s of samples) {
      const first = await readStream(dir, 'receipts', { from: s.cursor }).next();
      expect(first.value).toMatchObject({ cursor: s.cursor, record: { w: s.w, i: s.i } });
    }
    const m = readManifest(dir, 'receipts')!;
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(m.segments.length).toBeGreaterThan(3);
    expect(samples.length).toBeGreaterThan(10);
    expect(verifyStreamSegments(dir, 'receipts')).toEqual([]);
    expect(await verifyStreams(dir)).toMatchObject({ streams: 1, faults: [] });
    console.log(`compaction: ${kills} killed, ${done} finished, ${m.segments.length} segments, ${samples.length} cursors checked`);
    // 25 s alone on a 2-core machine; beside the rest of the suite its 80,000 fsync'd appends and
    // hundreds of process starts have taken over 60 s. The work is fixed, so the bound is generous.
  }, 240_000);
});

function start(script: string, args: object): ChildProcess {
  return spawn(process.execPath, [script, JSON.stringify(args)], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}
