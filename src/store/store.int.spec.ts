import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './openStore.js';
import { readArchiveEntries } from './history/archive.js';
import { acquireMergeLock } from './commit/mergeLock.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'framelog-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const utc = (s: number) => new Date(Date.UTC(2026, 3, 19, 14, 30, s)).toISOString();
const given = async (plan = {}): Promise<Store> => openStore(join(tmp(), 'store'), { create: true, plan });

describe('filesystem store', () => {
  it('puts deltas under names that carry identity and hash, and never replaces a file', async () => {
    const s = await given();
    const [r] = await s.put([{ frame: 530, writer: 'worker-3', utc: utc(1), counters: { n: 1 } }]);
    expect(r.file).toMatch(/^inbox\/frame-000530\.worker-3\.0\.[0-9a-f]{12}\.json$/);
    expect(r.written).toBe(true);
    const [again] = await s.put([{ frame: 530, writer: 'worker-3', utc: utc(1), counters: { n: 1 } }]);
    expect(again.written).toBe(false);
    expect(readdirSync(join(s.dir, 'inbox'))).toEqual([r.file.slice(6)]);
  });

  it('keeps a delta exactly as received', async () => {
    const s = await given();
    const bytes = Buffer.from('{ "utc":"2026-04-19T14:30:01Z", "writer_id":"w", "frame":1, "seq":0, "meta":{"note":"\\u00e9"} }');
    const [r] = await s.put([bytes]);
    expect(readFileSync(join(s.dir, r.file))).toEqual(bytes);
    await s.merge();
    const [entry] = readArchiveEntries(s.context, 1).entries;
    expect(Buffer.from(entry.bytes)).toEqual(bytes);
    expect(entry.name).toBe(r.file.slice('inbox/'.length));
  });

  it('put is all or nothing: one bad delta refuses the batch, naming it', async () => {
    const s = await given();
    await expect(s.put([{ frame: 1, writer: 'a', utc: utc(1) }, '{"frame":1,"writer":"b","utc":"soon"}'])).rejects.toThrow(/^delta #2: utc: utc is not an RFC 3339 timestamp/);
    expect(readdirSync(join(s.dir, 'inbox'))).toEqual([]);
  });

  it('merges, archives, journals, snapshots, and rebuilds any frame', async () => {
    const s = await given();
    await s.put([
      { frame: 1, writer: 'a', utc: utc(1), counters: { n: 1 }, set: { job: { j1: { state: 'started' } } } },
      { frame: 2, writer: 'a', utc: utc(2), counters: { n: 1 }, set: { job: { j1: { state: 'done' } } }, events: [{ type: 'finish', job: 'j1' }] },
      { frame: 2, writer: 'b', utc: utc(3), set: { job: { j1: { state: 'failed' } } } },
    ]);
    const records = await s.merge();
    expect(records.map((r) => r.frame)).toEqual([1, 2]);
    expect(records[1].prev).toMatch(/^[0-9a-f]{64}$/);
    expect(await s.stateAt(1)).toEqual({ items: {}, counters: { n: 1 }, entities: { job: { j1: { state: 'started' } } } });
    expect((await s.stateAt()).entities.job.j1.state).toBe('failed');
    expect(await s.stateAt(0)).toEqual({ items: {}, counters: {}, entities: {} });
    expect(await s.stateAt(99)).toEqual(await s.stateAt(2));
    expect(await s.conflicts({ type: 'job', writer: 'a' })).toHaveLength(1);
    expect(await s.conflicts({ frame: 1 })).toHaveLength(0);
    expect((await s.events({ type: 'finish' })).map((e) => e.writer)).toEqual(['a']);
    const diff = await s.diff(1, 2);
    expect(diff.fields).toEqual([expect.objectContaining({ type: 'job', id: 'j1', field: 'state', old: 'started', new: 'failed', writer: 'b', frame: 2 })]);
    expect(diff.counters).toEqual([{ name: 'n', old: 1, new: 2, delta: 1 }]);
    expect(existsSync(join(s.dir, 'snapshots', 'frame-000000002.json'))).toBe(true);
    expect((await s.verify()).ok).toBe(true);
    // Snapshots are a cache: delete them and every frame rebuilds the same.
    const before = [await s.stateAt(1), await s.stateAt(2)];
    rmSync(join(s.dir, 'snapshots'), { recursive: true });
    expect([await s.stateAt(1), await s.stateAt(2)]).toEqual(before);
    expect((await s.verify()).ok).toBe(true);
  });

  it('quarantines what breaks the protocol with a .why.json, and merges the rest', async () => {
    const s = await given();
    await s.put([{ frame: 1, writer: 'a', utc: utc(1), counters: { n: 1 } }]);
    writeFileSync(join(s.dir, 'inbox', 'bad.json'), '{"frame":1,"writer":"../x","utc":"2026-04-19T14:30:01Z"}');
    writeFileSync(join(s.dir, 'inbox', '.partial.json'), '{"fra');
    writeFileSync(join(s.dir, 'inbox', 'notes.txt'), 'ignored');
    const [r] = await s.merge();
    expect(r.quarantined).toEqual([{ file: 'bad.json', why: expect.stringMatching(/^writer: bad writer/) }]);
    expect(JSON.parse(readFileSync(join(s.dir, 'quarantine', 'bad.json.why.json'), 'utf8'))).toMatchObject({ file: 'bad.json', merge: 1 });
    expect(readdirSync(join(s.dir, 'inbox')).sort()).toEqual(['.partial.json', 'notes.txt']);
    // A second bad file of the same name does not replace the first.
    writeFileSync(join(s.dir, 'inbox', 'bad.json'), 'nope');
    expect(await s.merge()).toEqual([]);
    expect(readdirSync(join(s.dir, 'quarantine')).sort()).toEqual(['bad.json', 'bad.json.why.json', 'bad~2.json', 'bad~2.json.why.json']);
  });

  it('--through closes only frames up to N, and refuses N at or below the last closed frame', async () => {
    const s = await given();
    await s.put([1, 2, 3].map((f) => ({ frame: f, writer: 'a', utc: utc(f), counters: { n: 1 } })));
    expect((await s.merge({ through: 2 })).map((r) => r.frame)).toEqual([1, 2]);
    await expect(s.merge({ through: 2 })).rejects.toThrow(/--through 2: frame 2 is already closed/);
    expect((await s.merge()).map((r) => r.frame)).toEqual([3]);
  });

  it('replays with the plan that was in force, even after the plan changes', async () => {
    const s = await given({ keys: { posts: 'slug' } });
    await s.put([{ frame: 1, writer: 'a', utc: utc(1), items: { posts: [{ id: 1, slug: 'x' }, { id: 2, slug: 'x' }] } }]);
    await s.merge();
    const plan = JSON.parse(readFileSync(join(s.dir, 'framelog.json'), 'utf8'));
    writeFileSync(join(s.dir, 'framelog.json'), JSON.stringify({ ...plan, keys: {} }));
    const reopened = await openStore(s.dir);
    await reopened.put([{ frame: 2, writer: 'a', utc: utc(2), items: { posts: [{ id: 3, slug: 'x' }] } }]);
    await reopened.merge();
    rmSync(join(s.dir, 'snapshots'), { recursive: true });
    expect((await reopened.stateAt(2)).items.posts).toEqual([{ id: 1, slug: 'x' }, { id: 3, slug: 'x' }]);
    expect((await reopened.verify()).ok).toBe(true);
  });

  it('one merger per store: a live holder is named, a dead one is taken over', async () => {
    const s = await given();
    const lock = acquireMergeLock(join(s.dir, 'merger.lock'));
    await expect(s.merge()).rejects.toThrow(new RegExp(`store is being merged by pid ${process.pid} on `));
    lock.release();
    // A lock left by a process that is gone (a pid that cannot exist).
    writeFileSync(join(s.dir, 'merger.lock'), JSON.stringify({ pid: 2 ** 22 + 7, host: (await import('node:os')).hostname(), start: '1', since: 'then' }));
    await s.put([{ frame: 1, writer: 'a', utc: utc(1) }]);
    expect(await s.merge()).toHaveLength(1);
    expect(readFileSync(join(s.dir, 'merger.lock'), 'utf8')).toBe(''); // an flock lock: the file stays, naming no holder once released
    // A live pid whose start time differs is a reused pid, not the holder.
    writeFileSync(join(s.dir, 'merger.lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), start: 'not-my-start', since: 'then' }));
    await s.put([{ frame: 2, writer: 'a', utc: utc(2) }]);
    expect(await s.merge()).toHaveLength(1);
  });

  it('undoes a merge that died before its record, and finishes one that died after', async () => {
    const s = await given();
    await s.put([{ frame: 1, writer: 'a', utc: utc(1), counters: { n: 1 } }]);
    await s.merge();
    const clean = join(tmp(), 'copy');
    cpSync(s.dir, clean, { recursive: true });
    await s.put([{ frame: 2, writer: 'a', utc: utc(2), counters: { n: 5 } }, { frame: 2, writer: 'b', utc: utc(2), counters: { n: 7 } }]);
    const inboxBefore = readdirSync(join(s.dir, 'inbox')).sort();
    // Simulate a merger killed after moving files and journaling conflicts, before the record.
    const { journalSizes, writeIntent } = await import('./commit/mergeIntent.js');
    const { renameSync, mkdirSync, appendFileSync } = await import('node:fs');
    const intent = { frame: 2, moves: inboxBefore.map((n) => ({ from: `inbox/${n}`, to: `archive/merge-000000002/${n}` })), written: [], sizes: journalSizes(s.context) };
    writeIntent(s.context, intent);
    mkdirSync(join(s.dir, 'archive', 'merge-000000002'));
    renameSync(join(s.dir, intent.moves[0].from), join(s.dir, intent.moves[0].to));
    appendFileSync(join(s.dir, 'journal', 'events.ndjson'), '{"merge":2,"frame":2,"writer":"a","seq":0,"utc":"x","event":{}}\n');
    appendFileSync(join(s.dir, 'journal', 'merges.ndjson'), '{"frame":2,"utc":"torn');
    const records = await s.merge();
    expect(records.map((r) => r.frame)).toEqual([2]);
    expect(records[0].applied).toHaveLength(2);
    expect((await s.stateAt()).counters.n).toBe(13);
    expect((await s.verify()).ok).toBe(true);
    expect(readFileSync(join(s.dir, 'journal', 'merge-intent.json'), 'utf8')).toBe('{}\n'); // idle
  });
});

describe('landing deltas from a transport', () => {
  it('keeps bytes as received, names copies by identity and hash, and lets the merge quarantine bad ones', async () => {
    const { landDeltas } = await import('./inbox/landDeltas.js');
    const s = await given();
    const good = Buffer.from('{"frame":1,"writer":"a","utc":"2026-04-19T14:30:01Z","counters":{"n":1}}');
    const other = Buffer.from('{"frame":1,"writer":"a","utc":"2026-04-19T14:30:02Z","counters":{"n":5}}');
    const landed = landDeltas(s.context, [good, good, other, Buffer.from('{"frame":')]);
    expect(landed.map((l) => l.written)).toEqual([true, false, true, true]);
    expect(landed[3].name).toMatch(/^unparsed-[0-9a-f]{24}\.json$/);
    const seen: number[] = [];
    const m = (await import('./openStore.js')).openMergerOn(s.context);
    const [r] = m.merge({ onCommit: (rec) => seen.push(rec.frame) });
    m.close();
    expect(seen).toEqual([1]);
    expect(r.quarantined).toHaveLength(1);
    expect(r.conflicts).toBe(1);
    expect((await s.stateAt()).counters.n).toBe(1);
  });
});
