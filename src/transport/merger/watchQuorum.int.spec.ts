// #19 point 6: readiness by count. A store of many writers that lists none closes each frame as
// soon as its quorum of writers reported, not at the frame timeout; the plan refuses a bad quorum.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePlan } from '../../delta/plan.js';
import { putDeltas } from '../../store/inbox/putDeltas.js';
import { readLog } from '../../store/history/journalQueries.js';
import { initStore } from '../../store/storeContext.js';
import { createFsTransport } from '../fs/fsTransport.js';
import { runTransportMerger } from '../runTransportMerger.js';

const root = mkdtempSync(join(tmpdir(), 'framelog-quorum-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const delta = (frame: number, writer: string) => ({ bytes: Buffer.from(JSON.stringify({ frame, writer, utc: new Date(Date.UTC(2026, 0, 1, 0, 0, frame)).toISOString(), counters: { n: 1 } })), source: writer });

describe('readiness by quorum (merge --watch)', () => {
  it('200 writers, none listed, quorum 200 of "agent-*": every frame closes once they all reported, long before the 60 s timeout; a probe writer does not count', async () => {
    const ctx = initStore(join(root, 'q'), { frameTimeoutMs: 60_000, quorum: { count: 200, match: 'agent-*' } });
    const agents = Array.from({ length: 200 }, (_, i) => `agent-${i}`);
    const abort = new AbortController();
    const merged: number[] = [];
    const t0 = Date.now();
    const loop = runTransportMerger(ctx, createFsTransport(ctx.layout.root), { watch: true, signal: abort.signal, pollMs: 50, onMerge: (r) => merged.push(r.frame) });
    for (let f = 1; f <= 3; f++) {
      putDeltas(ctx, [...agents.slice(0, 199).map((a) => delta(f, a)), delta(f, 'probe')]);
      await new Promise((r) => setTimeout(r, 300));
      expect(merged, `frame ${f} waits for its 200th agent`).not.toContain(f);
      putDeltas(ctx, [delta(f, 'agent-199')]);
      const until = Date.now() + 10_000;
      while (!merged.includes(f) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      expect(merged).toContain(f);
    }
    abort.abort();
    await loop;
    expect(Date.now() - t0).toBeLessThan(30_000);
    const log = readLog(ctx);
    expect(log.map((r) => [r.frame, r.applied.length, r.missing])).toEqual([[1, 201, []], [2, 201, []], [3, 201, []]]);
  });

  it('the plan checks its quorum', () => {
    expect(parsePlan({ quorum: { count: 1000, match: 'agent-*' } }).quorum).toEqual({ count: 1000, match: 'agent-*' });
    expect(() => parsePlan({ quorum: { count: 0 } })).toThrow(/^framelog.json: quorum.count: must be a whole number from 1 to 1,000,000/);
    expect(() => parsePlan({ quorum: { count: 3, match: 'a*b*' } })).toThrow(/quorum.match: must be a writer name or a prefix ending in \*/);
    expect(() => parsePlan({ quorum: { count: 3, of: 'x' } })).toThrow(/quorum: must be \{"count": N\}/);
    expect(() => parsePlan({ quorum: 3 })).toThrow(/quorum: must be/);
  });
});
