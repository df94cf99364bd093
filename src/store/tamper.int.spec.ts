// PROTOCOL §3 and §5: "editing, dropping or reordering any record, archived delta or snapshot is
// detected by verify"; "a missing snapshot is a cache miss, an edited one is tampering". One store
// with five merges (writers w1–w3; field, item and delta conflicts; events; a late delta; a
// fallback; a duplicate; a snapshot every frame), then each tampering on a fresh copy of it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../delta/canonicalJson.js';
import type { JsonValue } from '../delta/types.js';
import { toState } from '../merge/canonicalState.js';
import { delta, givenStore, type GivenStore } from '../testing/given.js';
import { loadStateAt } from './history/stateAt.js';
import { openStoreContext } from './storeContext.js';
import { verifyStore, type VerifyReport } from './history/verifyStore.js';

const cliJs = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const T = (s: number): string => new Date(Date.parse('2026-03-01T10:00:00Z') + s * 1000).toISOString();
const archiveOf = (frame: number): string => `archive/merge-${String(frame).padStart(9, '0')}.ndjson`;

/** Rewrites the first delta of merge `frame`'s segment that `pick` selects, through `change`. */
function editArchived(dir: string, frame: number, pick: (d: Record<string, any>) => boolean, change: (d: Record<string, any>) => void): void {
  const rel = archiveOf(frame);
  const ls = lines(dir, rel).map((l) => JSON.parse(l) as { name: string; delta?: Record<string, any>; text?: string });
  const e = ls.find((x) => pick(x.delta ?? JSON.parse(x.text!)))!;
  const d = e.delta ?? JSON.parse(e.text!);
  change(d);
  e.delta = d;
  delete e.text;
  writeLines(dir, rel, ls.map((x) => JSON.stringify(x)));
}
const snapshotOf = (frame: number): string => `snapshots/frame-${String(frame).padStart(9, '0')}.json`;

let s: GivenStore;
const copies: GivenStore[] = [];
/** State JSON at each frame 0..6 of the untouched store. */
const states = new Map<number, string>();

const stateJsonAt = (dir: string, frame?: number): string => canonicalJson(toState(loadStateAt(openStoreContext(dir), frame)) as unknown as JsonValue);

/** A fresh copy of the store, changed by `edit(dir)`, then verified through the library. */
async function tampered(edit: (dir: string) => void): Promise<{ dir: string; report: VerifyReport }> {
  const c = await s.copy();
  copies.push(c);
  edit(c.dir);
  return { dir: c.dir, report: verifyStore(openStoreContext(c.dir)) };
}

const lines = (dir: string, rel: string): string[] => readFileSync(join(dir, rel), 'utf8').split('\n').filter((l) => l.length > 0);
const writeLines = (dir: string, rel: string, ls: string[]): void => writeFileSync(join(dir, rel), ls.map((l) => l + '\n').join(''));
/** Rewrites line `i` (0-based) of an NDJSON file through `change`. */
function editLine(dir: string, rel: string, i: number, change: (v: Record<string, any>) => void): void {
  const ls = lines(dir, rel);
  const v = JSON.parse(ls[i]) as Record<string, any>;
  change(v);
  const text = JSON.stringify(v);
  if (text === ls[i]) throw new Error(`the edit of ${rel}:${i + 1} changed nothing`);
  ls[i] = text;
  writeLines(dir, rel, ls);
}

function expectFault(report: VerifyReport, file: string | RegExp): void {
  expect(report.ok).toBe(false);
  const named = report.faults.some((f) => (typeof file === 'string' ? f.file === file : file.test(f.file)));
  expect(named, `no fault names ${file}: ${JSON.stringify(report.faults)}`).toBe(true);
}

function cliVerify(dir: string): { status: number | null; stderr: string } {
  if (!existsSync(cliJs)) throw new Error(`${cliJs} is missing: run \`npm run build\` first`);
  const r = spawnSync(process.execPath, [cliJs, 'verify', '--dir', dir], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stderr: r.stderr };
}

beforeAll(async () => {
  s = await givenStore({ writers: ['w1', 'w2', 'w3'], snapshotEvery: 1 });
  // Merge 1: w1 and w2 disagree on a field and on item posts/1; counters; an event.
  await s.put(
    delta({ frame: 1, writer: 'w1', utc: T(0), set: { agents: { '42': { status: 'idle' } } }, items: { posts: [{ id: 1, title: 'a' }] }, counters: { n: 1 }, events: [{ type: 'birth', id: 'a1' }] }),
    delta({ frame: 1, writer: 'w2', utc: T(1), set: { agents: { '42': { status: 'busy' } } }, items: { posts: [{ id: 1, title: 'b' }] }, counters: { n: 2 } }),
  );
  await s.merge();
  // Merge 2: a late delta for frame 1 (its field write loses to the stored stamp), a fallback.
  await s.put(
    delta({ frame: 2, writer: 'w1', utc: T(10), set: { agents: { '42': { load: 0.5 } } }, counters: { n: 3 } }),
    delta({ frame: 1, writer: 'w3', utc: T(-5), set: { agents: { '42': { status: 'late' } } }, counters: { late: 1 } }),
    delta({ frame: 2, writer: 'w2', utc: T(11), status: 'fallback' }),
  );
  await s.merge();
  // Merge 3: a conflicting redelivery of (1, w1, 0), an identical one of (1, w2, 0), an event.
  await s.put(
    delta({ frame: 3, writer: 'w2', utc: T(20), counters: { n: 4 }, events: [{ type: 'migration', from: 'north', to: 'south', id: 'f-17' }] }),
    delta({ frame: 1, writer: 'w1', utc: T(0), counters: { n: 100 } }),
    delta({ frame: 1, writer: 'w2', utc: T(1), set: { agents: { '42': { status: 'busy' } } }, items: { posts: [{ id: 1, title: 'b' }] }, counters: { n: 2 } }),
  );
  await s.merge();
  await s.put(delta({ frame: 4, writer: 'w3', utc: T(30), items: { posts: [{ id: 2, title: 'c' }] }, counters: { n: 5 } }));
  await s.merge();
  await s.put(delta({ frame: 5, writer: 'w1', utc: T(40), counters: { n: 1 } }));
  s.drop('frame-000005.broken.json', '{"frame":5,"writer":"w2"}');
  await s.merge();
  for (let f = 0; f <= 6; f++) states.set(f, await s.stateJson(f));
});

afterAll(() => {
  for (const c of copies) c.dispose();
  s?.dispose();
});

describe('the untouched store', () => {
  it('is the fixture the tampering tests assume', async () => {
    const log = await s.log();
    expect(log.map((r) => r.frame)).toEqual([1, 2, 3, 4, 5]);
    expect(log[1].late.map((r) => r.writer)).toEqual(['w3']);
    expect(log[1].fallback).toEqual(['w2']);
    expect(log[2].duplicates.map((r) => r.writer)).toEqual(['w2']);
    expect(log[4].quarantined.map((q) => q.file)).toEqual(['frame-000005.broken.json']);
    const kinds = (await s.conflicts()).map((c) => `${c.merge}:${c.kind}`);
    expect(kinds).toEqual(['1:item', '1:field', '2:field', '3:delta']); // PROTOCOL v1.1 §2 order: delta, item, field
    expect(readdirSync(join(s.dir, 'snapshots')).filter((n) => n.endsWith('.json'))).toHaveLength(5);
    expect(JSON.parse(states.get(5)!).counters).toEqual({ late: 1, n: 16 });
  });

  it('verifies, through the library and the CLI', async () => {
    expect((await s.verify()).faults).toEqual([]);
    expect(cliVerify(s.dir).status).toBe(0);
  });
});

describe('verify catches tampering', () => {
  it('an edited archived delta (a counter value): names its archive folder or file', async () => {
    const { dir, report } = await tampered((d) => editArchived(d, 2, (v) => v.counters?.n === 3, (v) => void (v.counters.n = 30)));
    expectFault(report, new RegExp(`^${archiveOf(2)}(#|$)`));
    const cli = cliVerify(dir);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(archiveOf(2));
  });

  it('an edited value in the middle merge record: names journal/merges.ndjson', async () => {
    for (const change of [(v: Record<string, any>) => void (v.utc = '2026-06-01T00:00:01.000Z'), (v: Record<string, any>) => void (v.conflicts += 1), (v: Record<string, any>) => void (v.missing = ['w9'])]) {
      const { report } = await tampered((d) => editLine(d, 'journal/merges.ndjson', 2, change));
      expectFault(report, 'journal/merges.ndjson');
    }
  });

  it("an edited state_sha256 in the last merge record: names journal/merges.ndjson", async () => {
    const { dir, report } = await tampered((d) => editLine(d, 'journal/merges.ndjson', 4, (v) => void (v.state_sha256 = '0'.repeat(64))));
    expectFault(report, 'journal/merges.ndjson');
    const cli = cliVerify(dir);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('journal/merges.ndjson');
  });

  it('an edited conflict record: names journal/conflicts.ndjson', async () => {
    const { dir, report } = await tampered((d) => editLine(d, 'journal/conflicts.ndjson', 0, (v) => void (v.losers[0].value = 'busy?')));
    expectFault(report, 'journal/conflicts.ndjson');
    const cli = cliVerify(dir);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('journal/conflicts.ndjson');
  });

  it('an edited event record: names journal/events.ndjson', async () => {
    const { report } = await tampered((d) => editLine(d, 'journal/events.ndjson', 1, (v) => void (v.event.to = 'east')));
    expectFault(report, 'journal/events.ndjson');
  });

  it('an edited snapshot (a counter; a stamp only): names that snapshot file', async () => {
    const counter = await tampered((d) => {
      const v = JSON.parse(readFileSync(join(d, snapshotOf(2)), 'utf8'));
      v.counters.n = 999;
      writeFileSync(join(d, snapshotOf(2)), canonicalJson(v) + '\n');
    });
    expectFault(counter.report, snapshotOf(2));
    // The state hash no longer matches its record: loading skips it as a cache miss.
    for (let f = 0; f <= 6; f++) expect(stateJsonAt(counter.dir, f)).toBe(states.get(f));

    const stamp = await tampered((d) => {
      const v = JSON.parse(readFileSync(join(d, snapshotOf(2)), 'utf8'));
      v.entities.agents['42'].status[1][2] = 'w3'; // the stamp's writer: same state, other stamp
      writeFileSync(join(d, snapshotOf(2)), canonicalJson(v) + '\n');
    });
    expectFault(stamp.report, snapshotOf(2));
  });

  it('a dropped merge record (the middle line): caught, naming journal/merges.ndjson', async () => {
    const { report } = await tampered((d) => {
      const ls = lines(d, 'journal/merges.ndjson');
      ls.splice(2, 1);
      writeLines(d, 'journal/merges.ndjson', ls);
    });
    expectFault(report, 'journal/merges.ndjson');
  });

  it('two merge records swapped: caught, naming journal/merges.ndjson', async () => {
    const { report } = await tampered((d) => {
      const ls = lines(d, 'journal/merges.ndjson');
      [ls[1], ls[2]] = [ls[2], ls[1]];
      writeLines(d, 'journal/merges.ndjson', ls);
    });
    expectFault(report, 'journal/merges.ndjson');
  });

  it('a dropped conflict record: caught, naming journal/conflicts.ndjson', async () => {
    for (const i of [0, 2, 3]) {
      const { report } = await tampered((d) => {
        const ls = lines(d, 'journal/conflicts.ndjson');
        ls.splice(i, 1);
        writeLines(d, 'journal/conflicts.ndjson', ls);
      });
      expectFault(report, 'journal/conflicts.ndjson');
    }
  });

  it('two conflict records swapped (within one merge): caught, naming journal/conflicts.ndjson', async () => {
    const { report } = await tampered((d) => {
      const ls = lines(d, 'journal/conflicts.ndjson');
      [ls[0], ls[1]] = [ls[1], ls[0]];
      writeLines(d, 'journal/conflicts.ndjson', ls);
    });
    expectFault(report, 'journal/conflicts.ndjson');
  });
});

describe('a deleted snapshot is a cache miss, not a fault', () => {
  it('one snapshot deleted: verify ok, state at every frame unchanged', async () => {
    const { dir, report } = await tampered((d) => rmSync(join(d, snapshotOf(3))));
    expect(report.faults).toEqual([]);
    expect(report.ok).toBe(true);
    for (let f = 0; f <= 6; f++) expect(stateJsonAt(dir, f)).toBe(states.get(f));
    expect(cliVerify(dir).status).toBe(0);
  });

  it('every snapshot deleted: verify ok, state at every frame unchanged', async () => {
    const { dir, report } = await tampered((d) => {
      for (const n of readdirSync(join(d, 'snapshots'))) rmSync(join(d, 'snapshots', n));
    });
    expect(report.faults).toEqual([]);
    for (let f = 0; f <= 6; f++) expect(stateJsonAt(dir, f)).toBe(states.get(f));
  });
});


describe('verify catches edits beyond the chain: the last record, fallbacks, quarantine lists', () => {
  // PROTOCOL §3: "editing, dropping or reordering any record, archived delta or snapshot is detected
  // by verify". The chain covers a record only through the next record's `prev`, so the last record
  // is covered only in the fields verify recomputes; and a fallback delta is listed by writer only.
  const editLast = (change: (v: Record<string, any>) => void) => tampered((d) => editLine(d, 'journal/merges.ndjson', 4, change));

  it('the last merge record with its quarantined list emptied (quarantine/ still holds the file and its .why.json)', async () => {
    expectFault((await editLast((v) => void (v.quarantined = []))).report, 'journal/merges.ndjson');
  });

  it('the last merge record with another plan_sha256', async () => {
    expectFault((await editLast((v) => void (v.plan_sha256 = '0'.repeat(64)))).report, 'journal/merges.ndjson');
  });

  it('the last merge record with another utc', async () => {
    expectFault((await editLast((v) => void (v.utc = '2026-06-01T00:00:01.000Z'))).report, 'journal/merges.ndjson');
  });

  it('an archived fallback delta edited (its meta, its utc)', async () => {
    for (const change of [(v: Record<string, any>) => void (v.meta = { edited: true }), (v: Record<string, any>) => void (v.utc = '2026-03-01T09:00:00Z')]) {
      const { report } = await tampered((d) => editArchived(d, 2, (v) => v.status === 'fallback', change));
      expectFault(report, new RegExp(`^${archiveOf(2)}(#|$)`));
    }
  });
});
