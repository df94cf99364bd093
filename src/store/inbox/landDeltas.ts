import { join } from 'node:path';
import { sha256Hex } from '../../delta/contentHash.js';
import { inboxName } from '../../delta/identity.js';
import { parseDelta } from '../../delta/validateDelta.js';
import { createFileDurable, fsyncDir } from '../../durable/durableFs.js';
import type { StoreContext } from '../storeContext.js';

/** Where one landed delta went. */
export interface Landed {
  /** The inbox file name. */
  name: string;
  /** False when a file of that name was already pending (the same identity and content). */
  written: boolean;
}

/**
 * Lands deltas that arrived through a transport into the inbox exactly as received, bad ones
 * included (the merge quarantines those, with their reason, as for any file). A valid delta is
 * named by identity and content hash, so a redelivered copy lands on the same name and is not
 * written twice; a copy with the same identity and other content gets its own name, and the merge
 * records the conflict. Bytes that are no valid delta are named by their hash. Durable on return.
 */
export function landDeltas(ctx: StoreContext, arrivals: Uint8Array[]): Landed[] {
  const out: Landed[] = [];
  for (const bytes of arrivals) {
    const check = parseDelta(bytes, ctx.plan);
    const name = check.ok ? inboxName(check.delta) : `unparsed-${sha256Hex(bytes).slice(0, 24)}.json`;
    out.push({ name, written: createFileDurable(join(ctx.layout.inbox, name), bytes, { syncDir: false }) });
  }
  if (out.some((l) => l.written)) fsyncDir(ctx.layout.inbox);
  return out;
}
