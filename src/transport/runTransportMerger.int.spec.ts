import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MergeRecord } from '../merge/records.js';
import { readLog } from '../store/history/journalQueries.js';
import { initStore } from '../store/storeContext.js';
import { verifyStore } from '../store/history/verifyStore.js';
import { runTransportMerger } from './runTransportMerger.js';
import type { Arrival, Transport } from './transport.js';

const root = mkdtempSync(join(tmpdir(), 'framelog-transport-loop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const NOW = Date.parse('2026-06-01T00:00:00Z');
const bytes = (frame: number, writer: string, n = 1) => Buffer.from(JSON.stringify({ frame, writer, utc: '2026-05-01T00:00:00Z', counters: { n } }));

/** A remote-style transport in memory: deltas wait until acknowledged; unacknowledged ones are delivered again. */
function memoryTransport() {
  const pending = new Map<string, Uint8Array>();
  const log: string[] = [];
  let next = 0;
  const t: Transport & { send(b: Uint8Array): void; pending: typeof pending; log: string[]; failAck?: boolean } = {
    name: 'memory',
    durability: { onDiskWhenAcknowledged: false, summary: 'in memory (a test double of a queue)' },
    pending,
    log,
    send(b) { pending.set(`m${next++}`, b); },
    async put(deltas) { return deltas.map((b) => { t.send(b); return { id: `m${next - 1}`, duplicate: false }; }); },
    async pull(): Promise<Arrival[]> { log.push('pull'); return [...pending].map(([id, b]) => ({ id, bytes: b })); },
    merger: { async begin() { return () => undefined; }, committed(r: MergeRecord) { log.push(`commit ${r.frame}`); } },
    async ack(ids) {
      log.push(`ack ${ids.join(',')}`);
      if (t.failAck) throw new Error('remote down');
      for (const id of ids) pending.delete(id);
    },
    watch() {},
    async close() {},
  };
  return t;
}

describe('runTransportMerger (the loop every transport plugs into)', () => {
  it('pulls, lands, merges with a commit per merge, then acknowledges only what the merges took', async () => {
    const ctx = initStore(join(root, 'a'));
    const t = memoryTransport();
    t.send(bytes(1, 'w1')); t.send(bytes(2, 'w1')); t.send(bytes(5, 'w1'));
    const records = await runTransportMerger(ctx, t, { through: 2, now: () => NOW });
    expect(records.map((r) => r.frame)).toEqual([1, 2]);
    expect(t.log).toEqual(['pull', 'commit 1', 'commit 2', 'ack m0,m1']);
    expect([...t.pending.keys()]).toEqual(['m2']); // frame 5 waits, unacknowledged, in the inbox
    // Redelivered (never acknowledged), it lands on the same name: applied once.
    const later = await runTransportMerger(ctx, t, { now: () => NOW });
    expect(later.map((r) => [r.frame, r.applied.length, r.duplicates.length])).toEqual([[5, 1, 0]]);
    expect(t.pending.size).toBe(0);
    expect(verifyStore(ctx).ok).toBe(true);
  });

  it('a crash before the acknowledgement redelivers: the copy is archived as a duplicate, never applied twice', async () => {
    const ctx = initStore(join(root, 'b'));
    const t = memoryTransport();
    t.send(bytes(1, 'w1'));
    t.failAck = true;
    await expect(runTransportMerger(ctx, t, { now: () => NOW })).rejects.toThrow(/remote down/);
    t.failAck = false;
    t.send(bytes(2, 'w1'));
    t.send(bytes(2, 'w1', 7)); // same identity, other content: carried, and recorded as a conflict
    const records = await runTransportMerger(ctx, t, { now: () => NOW });
    expect(records.map((r) => ({ frame: r.frame, applied: r.applied.length, dup: r.duplicates.length, conflicts: r.conflicts }))).toEqual([{ frame: 2, applied: 1, dup: 1, conflicts: 1 }]);
    expect(readLog(ctx).flatMap((r) => r.applied.map((a) => a.frame))).toEqual([1, 2]);
    expect(verifyStore(ctx).ok).toBe(true);
  });

  it('watch mode reports a failing transport and keeps going', async () => {
    const ctx = initStore(join(root, 'c'), { writers: ['w1'] });
    const t = memoryTransport();
    let fails = 2;
    const pull = t.pull.bind(t);
    t.pull = async () => { if (fails-- > 0) throw new Error('network unreachable'); return pull(); };
    t.send(bytes(1, 'w1'));
    const errors: string[] = [];
    const abort = new AbortController();
    const merged: number[] = [];
    await runTransportMerger(ctx, t, { watch: true, signal: abort.signal, pollMs: 10, now: () => NOW, onTransportError: (e) => errors.push((e as Error).message), onMerge: (r) => { merged.push(r.frame); abort.abort(); } });
    expect(errors).toEqual(['network unreachable', 'network unreachable']);
    expect(merged).toEqual([1]);
  });
});
