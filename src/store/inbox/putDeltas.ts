import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../delta/contentHash.js';

const NL = Buffer.from('\n');
import { inboxName } from '../../delta/identity.js';
import { describeProblem, parseDelta } from '../../delta/validateDelta.js';
import { FramelogError } from '../../errors.js';
import { createFileDurable, fsyncDir } from '../../durable/durableFs.js';
import type { InboxFileScan } from './inbox.js';
import type { StoreContext } from '../storeContext.js';

/** One delta to put: its bytes exactly as received, and where it came from (for messages). */
export interface PutInput {
  bytes: Uint8Array;
  /** A file name, or `stdin:3` for line 3 of standard input. */
  source: string;
}

/** What `put` did with one delta. */
export interface PutResult {
  source: string;
  /** The inbox file, relative to the store root (a batch file holds several deltas). */
  file: string;
  /** Its line in `file`, when that is a batch (1-based). */
  line?: number;
  frame: number;
  writer: string;
  seq: number;
  sha256: string;
  status: 'ok' | 'fallback';
  /** False when the same delta (same identity and hash) was already pending. */
  written: boolean;
}

/** Options of {@link putDeltas}. */
export interface PutOptions {
  /**
   * Called with each inbox file written and what it holds, parsed: a merger in the same process
   * keeps it, so it does not read and validate the file again.
   */
  written?: (file: string, scan: InboxFileScan) => void;
}

/** True when the bytes can be one line of a batch file: no line break (a pretty-printed file cannot). */
const oneLine = (b: Uint8Array): boolean => b.indexOf(10) < 0 && b.indexOf(13) < 0;

/**
 * Validates deltas and drops them into the inbox (PROTOCOL §3, §5): every delta is checked before
 * any is written, so one bad input leaves the store untouched. Several deltas go into one batch
 * file (`batch.<hash>.ndjson`, one delta per line, PROTOCOL v1.1 §3), so a batch costs one file
 * and two syncs, not two per delta; a delta with line breaks in its bytes, or a lone one, gets a
 * file of its own. Files are written to a temp name, fsynced and linked into place (never
 * replacing a file); the inbox folder is fsynced once, and only then does `putDeltas` return:
 * acknowledged means durable.
 */
export function putDeltas(ctx: StoreContext, inputs: PutInput[], opts: PutOptions = {}): PutResult[] {
  const checked = inputs.map((input) => {
    const check = parseDelta(input.bytes, ctx.plan);
    if (!check.ok) throw new FramelogError(`${input.source}: ${describeProblem(check.problem)}`, 'bad-delta');
    return { input, delta: check.delta };
  });
  const results: PutResult[] = new Array(checked.length);
  const result = (i: number, file: string, written: boolean, line?: number): PutResult => {
    const { input, delta } = checked[i];
    return { source: input.source, file, ...(line !== undefined ? { line } : {}), frame: delta.frame, writer: delta.writer, seq: delta.seq, sha256: delta.sha256, status: delta.status, written };
  };
  const lines: Buffer[] = [];
  const seen = new Set<string>();
  const inBatch: Array<{ at: number; line: number }> = [];
  const alone: number[] = [];
  checked.forEach((c, i) => {
    if (checked.length === 1 || !oneLine(c.input.bytes)) return void alone.push(i);
    const own = inboxName(c.delta);
    // Already pending as a file of its own, or earlier in this batch: the same delta, not landed twice.
    const key = `${own}\u0000${c.input.bytes.length}\u0000${sha256Hex(c.input.bytes)}`;
    if (seen.has(key) || existsSync(join(ctx.layout.inbox, own))) return void (results[i] = result(i, `inbox/${own}`, false));
    seen.add(key);
    lines.push(Buffer.from(c.input.bytes.buffer, c.input.bytes.byteOffset, c.input.bytes.byteLength), NL);
    inBatch.push({ at: i, line: lines.length / 2 });
  });
  // All or nothing: a file this put created is removed again when a later write or the folder's
  // sync fails, so a failed put leaves the inbox as it found it.
  const created: string[] = [];
  const create = (name: string, bytes: Uint8Array): boolean => {
    const written = createFileDurable(join(ctx.layout.inbox, name), bytes, { syncDir: false });
    if (written) created.push(name);
    return written;
  };
  try {
    if (inBatch.length > 0) {
      const text = Buffer.concat(lines);
      const name = `batch.${sha256Hex(text).slice(0, 24)}.ndjson`;
      const written = create(name, text);
      for (const { at, line } of inBatch) results[at] = result(at, `inbox/${name}`, written, line);
      if (written && opts.written) {
        opts.written(name, { bad: [], valid: inBatch.map(({ at }) => ({ name: inboxName(checked[at].delta), source: name, delta: checked[at].delta, bytes: checked[at].input.bytes, bytesSha256: sha256Hex(checked[at].input.bytes) })) });
      }
    }
    for (const i of alone) {
      const name = inboxName(checked[i].delta);
      const written = create(name, checked[i].input.bytes);
      results[i] = result(i, `inbox/${name}`, written);
      if (written && opts.written) {
        const { input, delta } = checked[i];
        opts.written(name, { bad: [], valid: [{ name, source: name, delta, bytes: input.bytes, bytesSha256: sha256Hex(input.bytes) }] });
      }
    }
    // Synced even when every delta was already pending: the put that wrote them may have died
    // before its own sync of the folder, and this one acknowledges them.
    if (results.length > 0) fsyncDir(ctx.layout.inbox);
  } catch (e) {
    try {
      for (const name of created) unlinkSync(join(ctx.layout.inbox, name));
      if (created.length > 0) fsyncDir(ctx.layout.inbox);
    } catch (undo) {
      if (e instanceof Error) e.message += ` (and removing what this put wrote failed: ${(undo as Error).message}; inbox/${created.join(', inbox/')} may stay)`;
      throw e;
    }
    if (e instanceof Error && !e.message.includes('nothing was put')) e.message += ` (putting into ${ctx.layout.inbox}: nothing was put)`;
    throw e;
  }
  return results;
}
