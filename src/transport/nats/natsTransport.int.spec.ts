import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MsgHdrsImpl } from '@nats-io/nats-core';
import { afterAll, describe, expect, it } from 'vitest';
import { readLog } from '../../store/history/journalQueries.js';
import { initStore } from '../../store/storeContext.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import { createFsTransport } from '../fs/fsTransport.js';
import { runTransportMerger } from '../runTransportMerger.js';
import { serviceForTests } from '../testing/services.js';
import { transportKey } from '../transportKey.js';
import { deltaSubject, natsNames, subjectToken, subjectTokenText } from './natsNames.js';
import { deltaHeaderBytes } from './natsPut.js';
import { natsTestStores } from './testing/natsTestStore.js';

const ok = await serviceForTests('nats');
const stores = natsTestStores();
const root = mkdtempSync(join(tmpdir(), 'framelog-nats-'));
afterAll(async () => {
  await stores.cleanup();
  rmSync(root, { recursive: true, force: true });
});

const NOW = Date.parse('2026-06-01T00:00:00Z');
const delta = (frame: number, writer: string, n = 1, extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ frame, writer, utc: '2026-05-01T00:00:00Z', counters: { n }, ...extra }));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('subject tokens', () => {
  it('keep writer names with dots, wildcards and spaces in one token, and unparsed bytes apart', () => {
    for (const w of ['w.1', 'a*b', 'x>y', 'with space', '%', '', 'ünï']) {
      const t = subjectToken(w);
      expect(t).toMatch(/^[A-Za-z0-9_%-]+$/);
      expect(subjectTokenText(t)).toBe(w);
    }
    const names = natsNames('s-1');
    expect(deltaSubject(names, transportKey(delta(7, 'w.1')))).toBe('framelog.s-1.deltas.7.w%2E1');
    expect(deltaSubject(names, transportKey(Buffer.from('not json')))).toBe('framelog.s-1.deltas._');
    expect(() => natsNames('a.b')).toThrow(/store name "a.b" is not valid/);
  });

  it('the size check counts the headers exactly as the client encodes them', () => {
    for (const b of [delta(1, 'w0'), delta(-5, 'a.b-c_d'), Buffer.from('x')]) {
      const key = transportKey(b);
      const h = new MsgHdrsImpl();
      h.set('Nats-Msg-Id', key);
      expect(deltaHeaderBytes(key)).toBe(h.encode().byteLength);
    }
  });
});

describe.skipIf(!ok)('nats transport', () => {
  it('carries every delta byte for byte (invalid UTF-8, NUL, \\u0000 escape, empty); ack removes them', async () => {
    const writer = await stores.open();
    const merger = await stores.open({ store: writer.names.store });
    const sent = [
      delta(1, 'w1'),
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), // invalid UTF-8
      Buffer.from('{"frame":1,"writer":"w2"\u0000}'), // a NUL byte
      delta(1, 'w3', 1, { note: 'a\u0000b' }), // a \u0000 escape inside valid JSON
      Buffer.alloc(0),
    ];
    const outcomes = await writer.put(sent);
    expect(outcomes.map((o) => o.id)).toEqual(sent.map((b) => transportKey(b)));
    expect(outcomes.every((o) => !o.duplicate)).toBe(true);
    await merger.merger!.begin();
    const got = await merger.pull();
    expect(got.map((a) => hex(a.bytes)).sort()).toEqual(sent.map(hex).sort());
    expect(await merger.pull()).toEqual([]); // nothing new in this session
    await merger.ack([...got.map((a) => a.id), '999999', 'not-an-id']); // unknown ids are ignored
    expect(await stores.pendingCount(writer)).toBe(0);
    await merger.merger!.begin(); // a new session: nothing left to deliver
    expect(await merger.pull()).toEqual([]);
  });

  it('a new merger session gets every unacknowledged delta again at once (not after the ack wait)', async () => {
    const t = await stores.open({ ackWaitMs: 60_000 });
    await t.put([delta(1, 'w1'), delta(2, 'w1'), delta(3, 'w1')]);
    await t.merger!.begin();
    const first = await t.pull();
    expect(first).toHaveLength(3);
    await t.ack([first.find((a) => hex(a.bytes) === hex(delta(2, 'w1')))!.id]);
    const started = Date.now();
    await t.merger!.begin(); // the merger restarted
    const again = await t.pull();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(again.map((a) => hex(a.bytes)).sort()).toEqual([delta(1, 'w1'), delta(3, 'w1')].map(hex).sort());
  });

  it('dedups by identity + content hash: a pending copy is a duplicate, other content is stored', async () => {
    const t = await stores.open();
    const a = delta(1, 'w1');
    const [first] = await t.put([a]);
    const [copy, other] = await t.put([a, delta(1, 'w1', 2)]);
    expect(first.duplicate).toBe(false);
    expect(copy).toEqual({ id: first.id, duplicate: true });
    expect(other.duplicate).toBe(false);
    expect(other.id).not.toBe(first.id);
    expect(await stores.pendingCount(t)).toBe(2);
    // Two identical copies in one call: stored once.
    const both = await t.put([delta(5, 'w1'), delta(5, 'w1')]);
    expect(both.map((o) => o.duplicate).sort()).toEqual([false, true]);
    expect(await stores.pendingCount(t)).toBe(3);
  });

  it('a copy put again after the merger acknowledged the first: absorbed within the duplicate window, stored after it (unlike the fs inbox)', async () => {
    const t = await stores.open({ duplicateWindowMs: 1500 });
    const a = delta(1, 'w1');
    await t.put([a]);
    await t.merger!.begin();
    const got = await t.pull();
    await t.ack(got.map((x) => x.id));
    expect(await stores.pendingCount(t)).toBe(0);
    // Within the window: the server answers "duplicate" and stores nothing (the merger never sees it).
    const [within] = await t.put([a]);
    expect(within.duplicate).toBe(true);
    expect(await stores.pendingCount(t)).toBe(0);
    expect(await t.pull()).toEqual([]);
    // After the window: stored again, as the fs inbox would, for the merger to record as a duplicate.
    await sleep(2500);
    const [after] = await t.put([a]);
    expect(after.duplicate).toBe(false);
    expect(await stores.pendingCount(t)).toBe(1);
  });

  it('refuses a delta over max_payload less its headers, naming index, size and limit, and stores nothing of the call', async () => {
    const t = await stores.open();
    const max = t.maxPayload();
    expect(max).toBeGreaterThan(1000);
    const headerBytes = 'NATS/1.0\r\nNats-Msg-Id: \r\n\r\n'.length + 'unparsed/'.length + 64;
    const limit = max - headerBytes;
    const fits = Buffer.alloc(limit, 0x61);
    const over = Buffer.alloc(limit + 1, 0x62);
    await expect(t.put([delta(1, 'w1'), over, delta(2, 'w1')])).rejects.toMatchObject({
      code: 'too-large',
      message: expect.stringMatching(new RegExp(`delta 1 is ${limit + 1} bytes, over the limit of ${limit} bytes`)),
    });
    expect(await stores.pendingCount(t)).toBe(0);
    const [o] = await t.put([fits]);
    expect(o.duplicate).toBe(false);
    await t.merger!.begin();
    const [back] = await t.pull();
    expect(back.bytes.byteLength).toBe(limit);
    expect(Buffer.compare(Buffer.from(back.bytes), fits)).toBe(0);
  });

  it('watch wakes the merger on a put, until its signal aborts', async () => {
    const t = await stores.open();
    const w = await stores.open({ store: t.names.store });
    let calls = 0;
    const abort = new AbortController();
    t.watch(() => calls++, abort.signal);
    await t.connection.flush();
    await w.put([delta(1, 'w1')]);
    for (let i = 0; i < 50 && calls === 0; i++) await sleep(20);
    expect(calls).toBeGreaterThan(0);
    abort.abort();
    await t.connection.flush();
    const before = calls;
    await w.put([delta(2, 'w1')]);
    await sleep(200);
    expect(calls).toBe(before);
  });

  it('end to end through runTransportMerger: a bad delta is quarantined with the same reason as through the fs inbox', async () => {
    const deltas = [delta(1, 'w1'), delta(1, 'w2', 3), Buffer.from('{"frame":1,"writer":"w1","utc":"nope"}'), Buffer.from([0xff]), delta(2, 'w1')];
    const fsCtx = initStore(join(root, 'e2e-fs'));
    await createFsTransport(fsCtx.layout.root).put(deltas);
    await runTransportMerger(fsCtx, createFsTransport(fsCtx.layout.root), { now: () => NOW });

    const ctx = initStore(join(root, 'e2e-nats'));
    const writer = await stores.open();
    const merger = await stores.open({ store: writer.names.store });
    await writer.put(deltas);
    const records = await runTransportMerger(ctx, merger, { now: () => NOW });
    expect(records.map((r) => r.frame)).toEqual([1, 2]);
    const whys = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.why.json')).map((n) => (JSON.parse(readFileSync(join(dir, n), 'utf8')) as { why: string }).why).sort();
    expect(whys(ctx.layout.quarantine)).toHaveLength(2);
    expect(whys(ctx.layout.quarantine)).toEqual(whys(fsCtx.layout.quarantine));
    expect(readLog(ctx).map((r) => r.applied.length)).toEqual(readLog(fsCtx).map((r) => r.applied.length));
    expect(verifyStore(ctx).ok).toBe(true);
    expect(await stores.pendingCount(writer)).toBe(0); // everything merged was acknowledged
  });

  it('close is idempotent', async () => {
    const t = await stores.open();
    await t.close();
    await t.close();
    expect(t.connection.isClosed()).toBe(true);
  });
});
