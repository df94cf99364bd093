import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactStream } from '../../stream/compact/compactStream.js';
import { DurableEndWriter, durableEndFile } from '../../stream/durableEnd.js';
import { tempStore } from '../testing/serverFixture.js';
import { FileTail } from './FileTail.js';
import { streamRecordFrame } from './sseLines.js';
import { streamHistory } from './streamHistory.js';

/** A stream file written by hand (line `{"i":n}` per record) and a tail on it with its history, told of everything. */
function givenStreamTail(first: number) {
  const dir = tempStore();
  const file = path.join(dir, 'streams', 'feed.ndjson');
  const ends: number[] = []; // ends[i]: the stream cursor after record i
  const append = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const line = `{"i":${i}}\n`;
      fs.appendFileSync(file, line);
      ends.push((ends[ends.length - 1] ?? 0) + line.length);
    }
    // What a framelog appender does after its sync: followers publish up to the durable end.
    const marker = new DurableEndWriter(durableEndFile(path.dirname(file), 'feed'), file, () => undefined);
    marker.mark(fs.statSync(file).ino, fs.statSync(file).size, true);
    marker.close();
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  append(0, first);
  const errors: unknown[] = [];
  const tail = new FileTail(file, streamRecordFrame, 'end', 60_000, (e) => errors.push(e), streamHistory(dir, 'feed'));
  const frames: string[] = [];
  const resets: unknown[] = [];
  tail.live.add({ onBatch: (b) => frames.push(b.frames.toString()), onReset: (...r) => resets.push(r) });
  const events = () => [...frames.join('').matchAll(/^id: (\d+)\nevent: record\ndata: \{"i":(\d+)\}$/gm)].map((m) => [Number(m[2]), Number(m[1])]);
  return { dir, tail, ends, append, events, resets, errors };
}

describe('FileTail on a compacted stream', () => {
  it('starts at the stream end, and follows two compactions it did not see happen: the bytes it missed come from the segment', () => {
    const t = givenStreamTail(3);
    expect(t.tail.pos).toBe(t.ends[2]);
    t.append(3, 5);
    compactStream(t.dir, 'feed'); // segment [0, ends[4]); a new, empty live file
    t.append(5, 7); // into that new file, which the tail never opens:
    compactStream(t.dir, 'feed'); // segment [ends[4], ends[6])
    t.append(7, 8);
    t.tail.refresh(); // all of it at once, without a turn of the event loop in between
    t.tail.close();
    expect(t.events()).toEqual([3, 4, 5, 6, 7].map((i) => [i, t.ends[i]]));
    expect(t.resets).toEqual([]);
    expect(t.errors).toEqual([]);
    expect(t.tail.base).toBe(t.ends[6]);
  });

  it('a file replaced without a manifest still starts a new generation at 0 (a reset)', () => {
    const t = givenStreamTail(2);
    const file = path.join(t.dir, 'streams', 'feed.ndjson');
    fs.writeFileSync(`${file}.new`, '{"i":100}\n');
    fs.renameSync(`${file}.new`, file);
    t.tail.refresh();
    t.tail.refresh();
    t.tail.close();
    expect(t.resets).toEqual([[1, 'replaced', 0]]);
    expect(t.events()).toEqual([[100, 10]]);
  });
});
