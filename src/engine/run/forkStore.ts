import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FramelogError } from '../../errors.js';
import { createFileDurable, fsyncDir } from '../../durable/durableFs.js';
import { storeLayout } from '../../store/layout.js';

const ARCHIVE_DIR = /^merge-(\d+)(\.ndjson)?$/;
const SNAPSHOT_FILE = /^frame-(\d+)\.json$/;

/** The lines of an NDJSON file whose `field` is ≤ `frame` (a prefix: journals ascend by merge). */
function keepLines(file: string, field: string, frame: number): string {
  if (!existsSync(file)) return '';
  let out = '';
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const v = (JSON.parse(line) as Record<string, unknown>)[field];
    if (typeof v === 'number' && v > frame) break;
    out += line + '\n';
  }
  return out;
}

function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory()) copyTree(join(from, e.name), join(to, e.name));
    else copyFileSync(join(from, e.name), join(to, e.name));
  }
  fsyncDir(to);
}

/**
 * Makes a new store at `to` that shares history 0 … `frame` with the store at `from`: the plan,
 * the merge, conflict, event and plan journals cut after merge `frame`, the archive folders and
 * snapshots of those merges, byte for byte. The source is only read: history is never truncated.
 * The journal index is not copied (a cache: the first merger rebuilds it).
 */
export function forkStore(from: string, to: string, frame: number): void {
  if (existsSync(to) && (!statSync(to).isDirectory() || readdirSync(to).length > 0)) {
    throw new FramelogError(`${to}: exists and is not empty (a fork needs a new folder)`, 'exists');
  }
  const src = storeLayout(from), dst = storeLayout(to);
  if (!existsSync(src.plan)) throw new FramelogError(`${from}: no framelog store here`, 'no-store');
  for (const d of [dst.inbox, dst.archive, dst.quarantine, dst.journal, dst.snapshots, dst.views, dst.streams]) mkdirSync(d, { recursive: true });
  copyFileSync(src.plan, dst.plan);
  const journals: Array<[string, string, string]> = [[src.merges, dst.merges, 'frame'], [src.conflicts, dst.conflicts, 'merge'], [src.events, dst.events, 'merge'], [src.plans, dst.plans, 'from']];
  for (const [s, d, field] of journals) if (existsSync(s)) createFileDurable(d, Buffer.from(keepLines(s, field, frame)));
  for (const name of readdirSync(src.archive)) {
    const m = ARCHIVE_DIR.exec(name);
    if (m && Number(m[1]) <= frame) {
      if (m[2]) copyFileSync(join(src.archive, name), join(dst.archive, name)); // a segment
      else copyTree(join(src.archive, name), join(dst.archive, name));
    }
  }
  for (const name of readdirSync(src.snapshots)) {
    const m = SNAPSHOT_FILE.exec(name);
    if (m && Number(m[1]) <= frame) copyFileSync(join(src.snapshots, name), join(dst.snapshots, name));
  }
  for (const d of [dst.archive, dst.snapshots, dst.journal, to]) fsyncDir(d);
}
