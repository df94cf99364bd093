import fs from 'node:fs';
import path from 'node:path';
import { durableEndFileOf, readDurableEnd } from './durableEnd.js';
import { LineScanner } from './LineScanner.js';
import { compileRecordFilter, type RecordFilterSpec, type RecordPredicate } from './recordFilter.js';
import type { CorruptLine, ScannedRecord } from './ScannedRecord.js';

export interface FollowOptions {
  /** Cursor to start from (default 0). */
  readonly from?: number;
  readonly filter?: RecordFilterSpec | RecordPredicate;
  readonly onCorrupt?: (corrupt: CorruptLine) => void;
  /** Told when the file was replaced (new inode) or cut shorter; reading restarts at its byte 0. */
  readonly onRestart?: (why: 'replaced' | 'truncated') => void;
  /** Stops following. */
  readonly signal?: AbortSignal;
  /** Longest wait between looks when no change is notified (default 250 ms). */
  readonly pollMs?: number;
}

/**
 * Yields the records of a stream file from a cursor on, then waits for more, forever (until
 * `signal` aborts). Like `tail -F`: when the path comes to name a new file (compaction replaced
 * it), the rest of the old file is read first, then the new one from its start.
 */
export async function* followStream(file: string, options: FollowOptions = {}): AsyncGenerator<ScannedRecord, void, undefined> {
  const filter = typeof options.filter === 'function' ? options.filter : compileRecordFilter(options.filter);
  const signal = options.signal;
  const wake = changeNotifier(file, options.pollMs ?? 250, signal);
  let buf: Buffer = Buffer.allocUnsafe(1 << 20);
  let fd: number | undefined;
  let ino = -1;
  let pos = options.from ?? 0;
  let scanner: LineScanner | undefined;
  const marker = durableEndFileOf(file);
  let draining = false;
  try {
    while (!signal?.aborted) {
      if (fd === undefined) {
        try {
          fd = fs.openSync(file, 'r');
        } catch {
          await wake.next();
          continue;
        }
        ino = fs.fstatSync(fd).ino;
        scanner = new LineScanner(file, filter, options.onCorrupt, pos);
      }
      // Read what is there now.
      for (;;) {
        let filled = 0;
        // Only what an appender marked durable (durableEnd.ts): a record is never followed before its sync.
        // A file the path no longer names gets no more framelog appends: it is drained to its end.
        const room = Math.min(buf.length, (draining ? Infinity : readDurableEnd(marker, ino)) - pos);
        if (room <= 0) break;
        const got = fs.readSync(fd, buf, 0, room, pos);
        if (got === 0) break;
        filled = got;
        const out: ScannedRecord[] = [];
        const used = scanner!.scan(buf, 0, filled, pos, out);
        pos += used;
        yield* out;
        if (used === 0) {
          if (filled < buf.length) break; // a line still being written
          buf = Buffer.allocUnsafe(buf.length * 2); // a line longer than the buffer
        }
      }
      const onPath = fs.statSync(file, { throwIfNoEntry: false });
      if (onPath !== undefined && onPath.ino !== ino) {
        if (!draining && fs.fstatSync(fd).size > pos && hasCompleteLine(fd, pos, fs.fstatSync(fd).size)) {
          draining = true; // drain the old file first
          continue;
        }
        draining = false;
        fs.closeSync(fd);
        fd = undefined;
        pos = 0;
        options.onRestart?.('replaced');
        continue;
      }
      if (fs.fstatSync(fd).size < pos) {
        pos = 0;
        scanner = new LineScanner(file, filter, options.onCorrupt, 0);
        options.onRestart?.('truncated');
        continue;
      }
      await wake.next();
    }
  } finally {
    wake.close();
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function hasCompleteLine(fd: number, from: number, size: number): boolean {
  const b = Buffer.allocUnsafe(Math.min(size - from, 1 << 16));
  for (let pos = from; pos < size; ) {
    const got = fs.readSync(fd, b, 0, Math.min(b.length, size - pos), pos);
    if (got === 0) return false;
    const nl = b.indexOf(10);
    if (nl !== -1 && nl < got) return true;
    pos += got;
  }
  return false;
}

/** Resolves `next()` on a change in the stream's folder, after `pollMs`, or on abort. */
function changeNotifier(file: string, pollMs: number, signal: AbortSignal | undefined) {
  let pending: (() => void) | undefined;
  let dirty = false;
  const fire = () => {
    if (pending) {
      const p = pending;
      pending = undefined;
      p();
    } else dirty = true;
  };
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(path.dirname(file), { persistent: false }, fire);
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined; // the folder may not exist yet: polling covers it
  }
  signal?.addEventListener('abort', fire);
  return {
    next(): Promise<void> {
      if (dirty || signal?.aborted) {
        dirty = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(fire, pollMs);
        pending = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
    close(): void {
      watcher?.close();
      signal?.removeEventListener('abort', fire);
    },
  };
}
