import fs from 'node:fs';
import path from 'node:path';
import { parsePlan } from '../../delta/plan.js';
import { StreamError } from '../StreamError.js';
import { streamPaths } from '../streamPaths.js';
import { ensureDir, writeFileDurable } from '../../durable/durableFs.js';
import { readManifest, resolveLive } from './manifest.js';
import { readThroughSegments } from './readThroughSegments.js';

/** Plan `streams.NAME.archiveByKey`: a lifecycle per key, ended by a terminal value of `field`. */
export interface ArchiveByKeyRule {
  readonly key: string;
  readonly field: string;
  readonly terminal: readonly string[];
}

/** One per-key archive written: `streams/archive/<terminal>/<key>.ndjson`. */
export interface KeyedArchive {
  readonly key: string;
  readonly terminal: string;
  readonly file: string;
  readonly count: number;
  /** Stream cursors of the records it holds, in order. */
  readonly cursors: number[];
}

/** The rule of stream `name` from the store's `framelog.json` (`streams.NAME.archiveByKey`), if any. */
export function loadArchiveByKeyRule(storeDir: string, name: string): ArchiveByKeyRule | undefined {
  const file = path.join(storeDir, 'framelog.json');
  if (!fs.existsSync(file)) return undefined;
  const settings = parsePlan(JSON.parse(fs.readFileSync(file, 'utf8')), file).streams?.[name];
  return archiveByKeyRule(name, settings?.['archiveByKey']);
}

/** Reads and checks the rule from plan settings; undefined when absent. */
export function archiveByKeyRule(stream: string, settings: unknown): ArchiveByKeyRule | undefined {
  if (settings === undefined) return undefined;
  const r = settings as Partial<ArchiveByKeyRule>;
  const safe = (v: unknown) => typeof v === 'string' && v !== '';
  if (!safe(r.key) || !safe(r.field) || !Array.isArray(r.terminal) || !r.terminal.every((t) => typeof t === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(t) && t !== '.' && t !== '..')) {
    throw new StreamError('BAD_RECORD', `framelog.json: streams.${stream}.archiveByKey must be {"key": field, "field": field, "terminal": [state names of [A-Za-z0-9._-]]}`);
  }
  return r as ArchiveByKeyRule;
}

/**
 * Copies the records of every key whose lifecycle has ended in the compacted segments (a record
 * with `field` in `terminal`) to `streams/archive/<terminal>/<key>.ndjson`, once per key. The
 * segments stay whole: they keep the cursors and the hash chain; the per-key file is where a
 * finished dispatch's story is read in one go. Each file is written to a temp name, fsynced and
 * renamed, so a crash leaves it whole or absent (the next compaction writes it).
 */
export async function archiveEndedKeys(storeDir: string, name: string, rule: ArchiveByKeyRule): Promise<KeyedArchive[]> {
  const m = readManifest(storeDir, name);
  const view = resolveLive(m, fs.statSync(streamPaths(storeDir, name).file, { throwIfNoEntry: false })?.ino);
  if (!m || !view || view.segments.length === 0) return [];
  const end = view.segments.at(-1)!.end;
  const byKey = new Map<string, { lines: string[]; cursors: number[]; terminal?: string }>();
  for await (const e of readThroughSegments(storeDir, name, 0)) {
    if (e.cursor >= end) break;
    const k = e.record[rule.key];
    if (typeof k !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(k) || k === '.' || k === '..') continue;
    let g = byKey.get(k);
    if (!g) byKey.set(k, (g = { lines: [], cursors: [] }));
    g.lines.push(JSON.stringify(e.record));
    g.cursors.push(e.cursor);
    const v = e.record[rule.field];
    if (typeof v === 'string' && rule.terminal.includes(v)) g.terminal = v;
  }
  const root = path.join(streamPaths(storeDir, name).streamsDir, 'archive');
  const written: KeyedArchive[] = [];
  for (const [key, g] of byKey) {
    if (!g.terminal) continue;
    const dir = path.join(root, g.terminal);
    const file = path.join(dir, `${key}.ndjson`);
    if (fs.existsSync(file)) continue;
    ensureDir(dir);
    writeFileDurable(file, g.lines.join('\n') + '\n');
    written.push({ key, terminal: g.terminal, file: path.relative(storeDir, file), count: g.lines.length, cursors: g.cursors });
  }
  return written;
}
