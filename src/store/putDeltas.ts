import { join } from 'node:path';
import { inboxName } from '../delta/identity.js';
import { describeProblem, parseDelta } from '../delta/validateDelta.js';
import { FramelogError } from '../errors.js';
import { createFileDurable, fsyncDir } from './durableFs.js';
import type { StoreContext } from './storeContext.js';

/** One delta to put: its bytes exactly as received, and where it came from (for messages). */
export interface PutInput {
  bytes: Uint8Array;
  /** A file name, or `stdin:3` for line 3 of standard input. */
  source: string;
}

/** What `put` did with one delta. */
export interface PutResult {
  source: string;
  /** The inbox file, relative to the store root. */
  file: string;
  frame: number;
  writer: string;
  seq: number;
  sha256: string;
  status: 'ok' | 'fallback';
  /** False when the same delta (same identity and hash) was already pending. */
  written: boolean;
}

/**
 * Validates deltas and drops them into the inbox (PROTOCOL §5): every delta is checked before
 * any is written, so one bad input leaves the store untouched. Each file is written to a temp
 * name, fsynced and linked into place (never replacing a file); the inbox folder is fsynced once
 * for the batch, and only then does `putDeltas` return: acknowledged means durable.
 */
export function putDeltas(ctx: StoreContext, inputs: PutInput[]): PutResult[] {
  const checked = inputs.map((input) => {
    const check = parseDelta(input.bytes, ctx.plan);
    if (!check.ok) throw new FramelogError(`${input.source}: ${describeProblem(check.problem)}`, 'bad-delta');
    return { input, delta: check.delta };
  });
  const results: PutResult[] = [];
  for (const { input, delta } of checked) {
    const name = inboxName(delta);
    const written = createFileDurable(join(ctx.layout.inbox, name), input.bytes, { syncDir: false });
    results.push({ source: input.source, file: `inbox/${name}`, frame: delta.frame, writer: delta.writer, seq: delta.seq, sha256: delta.sha256, status: delta.status, written });
  }
  if (results.some((r) => r.written)) fsyncDir(ctx.layout.inbox);
  return results;
}
