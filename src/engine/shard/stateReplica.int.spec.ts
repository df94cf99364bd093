// A worker's replica follows the merger from the archive, merge by merge, and proves itself
// against every checkpoint's state_sha256: a replica that diverged is refused, not used.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stateJson } from '../../merge/canonicalState.js';
import { openMergerOn } from '../../store/openStore.js';
import { putDeltas } from '../../store/inbox/putDeltas.js';
import { initStore, type StoreContext } from '../../store/storeContext.js';
import { openStateReplica } from './stateReplica.js';

const root = mkdtempSync(join(tmpdir(), 'framelog-replica-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function mergeFrames(ctx: StoreContext, from: number, to: number): void {
  const m = openMergerOn(ctx);
  try {
    for (let f = from; f <= to; f++) {
      putDeltas(ctx, [0, 1].map((w) => ({ bytes: Buffer.from(JSON.stringify({ frame: f, writer: `w${w}`, utc: new Date(Date.UTC(2026, 0, 1, 0, 0, f)).toISOString(), counters: { n: 1 }, items: { log: [{ id: `${f}.${w}` }] }, set: { a: { [`w${w}`]: { f } } } })), source: `w${w}` })));
      m.merge({ through: f });
    }
  } finally {
    m.close();
  }
}

describe('state replica', () => {
  it('catches up merge by merge and equals the merger state at every frame', () => {
    const ctx = initStore(join(root, 'follow'));
    const replica = openStateReplica(ctx);
    replica.catchUp(null);
    expect(replica.state.frame).toBeNull();
    for (let f = 1; f <= 30; f += 3) {
      mergeFrames(ctx, f, f + 2);
      replica.catchUp(f + 2);
      const m = openMergerOn(ctx);
      try {
        expect(stateJson(replica.state)).toBe(stateJson(m.state));
      } finally {
        m.close();
      }
    }
  });

  it('refuses to go on when its digest differs from a checkpoint record', () => {
    const ctx = initStore(join(root, 'diverged'));
    mergeFrames(ctx, 1, 2);
    const replica = openStateReplica(ctx);
    replica.catchUp(2);
    mergeFrames(ctx, 3, 40);
    // The first checkpoint after frame 2 gets a state hash that no replay can give.
    const lines = readFileSync(ctx.layout.merges, 'utf8').split('\n');
    const i = lines.findIndex((l, k) => k >= 2 && l.includes('"state_sha256"'));
    expect(i).toBeGreaterThan(1);
    lines[i] = lines[i].replace(/"state_sha256":"[0-9a-f]{64}"/, `"state_sha256":"${'0'.repeat(64)}"`);
    writeFileSync(ctx.layout.merges, lines.join('\n'));
    expect(() => replica.catchUp(40)).toThrow(/digest differs/);
  });
});
