import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { streamPaths } from '../streamPaths.js';
import { archiveDir, readManifest } from './manifest.js';
import { segmentBytes } from './readThroughSegments.js';

/**
 * Checks a stream's compaction manifest against its segments: each listed segment present, its
 * bytes hashing to the recorded SHA-256 with the recorded count and last cursor, segments
 * contiguous from cursor 0 up to the live file's base, and `chainAnchor` equal to the `chain` of
 * its last record. Returns the problems found (empty when sound).
 */
export function verifyStreamSegments(storeDir: string, name: string): string[] {
  const m = readManifest(storeDir, name);
  if (!m) return [];
  const problems: string[] = [];
  const where = `streams/archive/${name}/manifest.json`;
  let expect = 0;
  for (const seg of m.segments) {
    if (seg.first !== expect) problems.push(`${where}: segment ${seg.file} starts at cursor ${seg.first}, expected ${expect} (a gap or an overlap)`);
    expect = seg.end;
    if (seg.evicted) continue; // deleted on purpose by an eviction; its range and anchor stay listed
    if (!fs.existsSync(path.join(archiveDir(storeDir, name), seg.file))) {
      problems.push(`${where}: segment ${seg.file} is missing: its records (cursors ${seg.first}–${seg.end}) are lost unless restored`);
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = segmentBytes(storeDir, name, seg);
    } catch (err) {
      problems.push(`segment ${seg.file}: unreadable: ${(err as Error).message}`);
      continue;
    }
    if (createHash('sha256').update(bytes).digest('hex') !== seg.sha256) problems.push(`segment ${seg.file}: content differs from the SHA-256 in the manifest (edited or damaged)`);
    if (bytes.length !== seg.end - seg.first) problems.push(`segment ${seg.file}: ${bytes.length} bytes, the manifest says ${seg.end - seg.first}`);
    let count = 0;
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) count++;
    if (count !== seg.count) problems.push(`segment ${seg.file}: ${count} records, the manifest says ${seg.count}`);
    const lastStart = bytes.lastIndexOf(10, bytes.length - 2) + 1;
    if (seg.first + lastStart !== seg.last) problems.push(`segment ${seg.file}: last record at cursor ${seg.first + lastStart}, the manifest says ${seg.last}`);
    try {
      const last = JSON.parse(bytes.toString('utf8', lastStart, bytes.length - 1)) as { chain?: unknown };
      if ((typeof last.chain === 'string' ? last.chain : null) !== seg.chainAnchor) problems.push(`segment ${seg.file}: chain anchor differs from its last record's chain`);
    } catch {
      problems.push(`segment ${seg.file}: last record is not JSON`);
    }
  }
  const live = fs.statSync(streamPaths(storeDir, name).file, { throwIfNoEntry: false });
  const liveBase = live && m.previous && live.ino === m.previous.ino && live.ino !== m.live.ino ? m.previous.base : m.live.base;
  if (live && live.ino !== m.live.ino && !(m.previous && live.ino === m.previous.ino)) problems.push(`${where}: the live file is not the one the manifest names (run framelog compact ${name} to recover, or restore the file)`);
  if (m.segments.length > 0 && expect < liveBase) problems.push(`${where}: segments end at cursor ${expect} but the live file starts at ${liveBase}: records between are missing`);
  return problems;
}
