import type { StoreContext } from '../storeContext.js';
import { openJournalIndex } from './journalIndex.js';

/** The frame the last merge closed, or `null` before the first merge (reads the journal index, not the journal). */
export function lastMergedFrame(ctx: StoreContext): number | null {
  const idx = openJournalIndex(ctx);
  try {
    return idx.count === 0 ? null : idx.frameAt(idx.count - 1);
  } finally {
    idx.close();
  }
}
