import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { decodeSegment } from '../history/archiveSegment.js';

const SEGMENT_PATH = /^archive\/merge-\d{9}\.ndjson$/;
import { basename, join } from 'node:path';
import { FramelogError } from '../../errors.js';
import type { MergeRecord } from '../../merge/records.js';
import { appendDurable, fsyncDir, writeFileDurable } from '../../durable/durableFs.js';
import { appendJournalIndex } from '../history/journalIndex.js';
import { lineHash, readJournal } from '../history/journalFile.js';
import { archiveDirName } from '../layout.js';
import type { MergeBundle } from './mergeBundle.js';
import { clearIntent, journalSizes, writeIntent, type MergeIntent } from '../commit/mergeIntent.js';
import type { StoreContext } from '../storeContext.js';

/** Where a store's history ends: how many merge records it holds and the last one's line hash. */
export interface StoreHead {
  index: number;
  frame: number | null;
  recordSha256: string | null;
}

/** The store's history end, from `journal/merges.ndjson`. */
export function storeHead(ctx: StoreContext): StoreHead {
  const records = readJournal<MergeRecord>(ctx.layout.merges, 'journal/merges.ndjson');
  const last = records.at(-1);
  return { index: records.length, frame: last ? last.value.frame : null, recordSha256: last ? lineHash(last.text) : null };
}

const sameBytes = (path: string, bytes: Uint8Array): boolean => {
  try {
    return Buffer.compare(readFileSync(path), bytes) === 0;
  } catch {
    return false;
  }
};

/**
 * Applies a merge another host committed (a {@link MergeBundle}) to this store, byte for byte,
 * with the same crash safety as a merge: an intent first, then the files (an inbox file with the
 * same name and bytes is moved into the archive, so a delta this host landed is not left pending),
 * then the journal lines, the record last (the commit point). The bundle must continue this
 * store's history: its index is the next one and its record's `prev` is the last record's hash.
 * The caller holds the merger lock and has run recovery; a merger session opened before is stale.
 * Returns the new head.
 */
export function importMergeBundle(ctx: StoreContext, bundle: MergeBundle, head: StoreHead = storeHead(ctx)): StoreHead {
  let record: MergeRecord;
  try {
    record = JSON.parse(bundle.record) as MergeRecord;
  } catch {
    throw new FramelogError(`merge bundle ${bundle.index}: its record is not JSON`, 'bad-bundle');
  }
  if (bundle.index !== head.index + 1) throw new FramelogError(`merge bundle ${bundle.index} (frame ${bundle.frame}): this store holds ${head.index} merges, so the next is ${head.index + 1}`, 'diverged');
  if (record.frame !== bundle.frame || (head.frame !== null && record.frame <= head.frame)) throw new FramelogError(`merge bundle ${bundle.index}: frame ${record.frame} does not follow this store's last merged frame ${head.frame}`, 'diverged');
  if ((record.prev ?? null) !== head.recordSha256) throw new FramelogError(`merge bundle ${bundle.index} (frame ${bundle.frame}): its record follows another history (prev ${String(record.prev).slice(0, 12)}, this store's last record ${String(head.recordSha256).slice(0, 12)})`, 'diverged');
  const root = ctx.layout.root;
  const intent: MergeIntent = { frame: bundle.frame, moves: [], written: [], sizes: journalSizes(ctx), consumed: [] };
  const writes: Array<{ path: string; bytes: Uint8Array }> = [];
  // The inbox name a file had on the merging host: its own name in the archive; for a quarantined
  // file, the `file` its .why.json names.
  const inboxNameOf = new Map<string, string>();
  for (const f of bundle.files) {
    if (!f.path.startsWith('quarantine/') || !f.path.endsWith('.why.json')) continue;
    try {
      const why = JSON.parse(Buffer.from(f.bytes).toString('utf8')) as { file?: unknown };
      if (typeof why.file === 'string' && !why.file.includes('/')) inboxNameOf.set(f.path.slice(0, -'.why.json'.length), why.file);
    } catch {
      // carried as is; verify names a quarantine note that is not JSON
    }
  }
  for (const f of bundle.files) {
    if (SEGMENT_PATH.test(f.path)) {
      // A segment: written whole; the inbox files this host holds of its deltas go once it commits.
      if (existsSync(join(root, f.path))) throw new FramelogError(`merge bundle ${bundle.index}: ${f.path} already exists in this store`, 'diverged');
      intent.written.push(f.path);
      writes.push(f);
      for (const e of decodeSegment(Buffer.from(f.bytes), f.path)) {
        if (sameBytes(join(ctx.layout.inbox, e.name), e.bytes)) intent.consumed!.push(`inbox/${e.name}`);
      }
      continue;
    }
    const original = f.path.startsWith('archive/') ? basename(f.path) : inboxNameOf.get(f.path);
    if (original && sameBytes(join(ctx.layout.inbox, original), f.bytes)) intent.moves.push({ from: `inbox/${original}`, to: f.path });
    else {
      if (existsSync(join(root, f.path))) throw new FramelogError(`merge bundle ${bundle.index}: ${f.path} already exists in this store`, 'diverged');
      intent.written.push(f.path);
      writes.push(f);
    }
  }
  writeIntent(ctx, intent);
  const archiveRel = archiveDirName(bundle.frame);
  if (bundle.files.some((f) => f.path.startsWith(`${archiveRel}/`))) mkdirSync(join(root, archiveRel), { recursive: true });
  mkdirSync(ctx.layout.quarantine, { recursive: true });
  for (const w of writes) writeFileDurable(join(root, w.path), w.bytes);
  for (const m of intent.moves) renameSync(join(root, m.from), join(root, m.to));
  if (existsSync(join(root, archiveRel))) {
    fsyncDir(join(root, archiveRel));
    fsyncDir(ctx.layout.archive);
  }
  if (bundle.files.some((f) => f.path.startsWith('quarantine/'))) fsyncDir(ctx.layout.quarantine);
  if (bundle.plans) appendDurable(ctx.layout.plans, bundle.plans);
  appendDurable(ctx.layout.conflicts, bundle.conflicts);
  appendDurable(ctx.layout.events, bundle.events);
  appendDurable(ctx.layout.merges, bundle.record + '\n'); // the commit point
  for (const c of intent.consumed!) rmSync(join(root, c), { force: true });
  appendJournalIndex(ctx, bundle.frame, intent.sizes.merges);
  clearIntent(ctx);
  return { index: bundle.index, frame: bundle.frame, recordSha256: lineHash(bundle.record) };
}
