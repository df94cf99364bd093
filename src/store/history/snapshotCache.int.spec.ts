// Issue #20 point 9: a snapshot is a cache. One a power failure cut short (written without a sync,
// found with zero bytes) is skipped by readers, reported by verify as a cache and not a fault, and
// written again by the next merger to open the store.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { givenStore } from '../../testing/given.js';
import { openStoreContext } from '../storeContext.js';
import { snapshotName } from '../layout.js';
import { verifyStore } from './verifyStore.js';

const line = (frame: number): string => JSON.stringify({ frame, writer: 'w', utc: `2026-04-19T14:00:0${frame}Z`, counters: { n: frame }, items: { log: [{ id: frame }] } });

describe('a snapshot cut short by a power failure', () => {
  it('is skipped by readers, reported as a cache by verify, and rewritten by the next merger', async () => {
    const s = await givenStore({ snapshotEvery: 1 });
    for (const f of [1, 2, 3]) {
      await s.put(line(f));
      await s.merge();
    }
    const path = join(s.dir, snapshotName(3));
    const whole = readFileSync(path, 'utf8');
    writeFileSync(path, ''); // what a power cut leaves of a snapshot renamed into place unsynced
    const expected = { counters: { n: 6 }, entities: {}, items: { log: [{ id: 1 }, { id: 2 }, { id: 3 }] } };
    expect(await s.store.stateAt()).toEqual(expected);
    const report = verifyStore(openStoreContext(s.dir));
    expect(report.ok).toBe(true);
    expect(report.faults).toEqual([]);
    expect(report.caches).toEqual([{ file: snapshotName(3), frame: 3, message: expect.stringMatching(/^snapshot unreadable \(cut short by a power failure/) }]);
    // The next merger heals it, byte for byte.
    const again = await givenStoreAt(s.dir);
    expect(await again.merge()).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe(whole);
    expect(verifyStore(openStoreContext(s.dir)).caches).toEqual([]);
    s.dispose();
  });
});

async function givenStoreAt(dir: string) {
  const { openStore } = await import('../openStore.js');
  return openStore(dir);
}
