import { parseInstant } from '../parseInstant.js';
import { readStream } from '../readStream.js';
import { readManifest } from './manifest.js';

/** Where {@link jumpToTime} landed: the cursor of the first record at or after the instant, and how many records it read to find it. */
export interface TimeJump {
  /** The record's cursor, or the stream's end when no record is that late. */
  cursor: number;
  /** True when a record at or after the instant was found. */
  found: boolean;
  /** Records read on the way (segments that end before the instant are skipped unread). */
  read: number;
}

/**
 * The cursor of the first record of stream `name` whose `ts` is at or after `at` (epoch ms).
 * Compacted segments whose last record is earlier are skipped by their manifest entry; the rest is
 * read in order. Records without a parseable `ts` are passed over.
 */
export async function jumpToTime(storeDir: string, name: string, at: number): Promise<TimeJump> {
  let from = 0;
  for (const s of readManifest(storeDir, name)?.segments ?? []) {
    const last = s.lastTs ? parseInstant(s.lastTs) : undefined;
    if (s.evicted || (last !== undefined && last < at)) from = s.end;
    else break;
  }
  let read = 0;
  let end = from;
  for await (const e of readStream(storeDir, name, { from })) {
    read++;
    end = e.next;
    const ts = e.record['ts'];
    const t = typeof ts === 'string' ? parseInstant(ts) : undefined;
    if (t !== undefined && t >= at) return { cursor: e.cursor, found: true, read };
  }
  return { cursor: end, found: false, read };
}
