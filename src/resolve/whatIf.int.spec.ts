// framelog whatif: the archived deltas replayed under another plan in a scratch store; the real
// store is never touched; state diff and conflicts that appear, vanish or change winner.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePlan } from '../delta/plan.js';
import { openStore, type Store } from '../store/openStore.js';
import { whatIf } from './whatIf.js';
import { treeHash } from '../testing/treeHash.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-whatif-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const run = (args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const T = (s: number) => `2026-04-19T14:00:${String(s).padStart(2, '0')}Z`;

/** Three merges under lww: loads 5 then 2 (w1) against 3 then 4 (w2); an item of key id 1 twice; an event-only delta. */
async function history(name: string): Promise<Store> {
  const s = await openStore(join(root, name), { create: true });
  for (const [f, a, b] of [[1, 5, 3], [2, 2, 4], [3, 1, 1]] as const) {
    await s.put([
      { frame: f, writer: 'w1', utc: T(f * 10 + 1), set: { agents: { a: { load: a } } }, items: { posts: [{ id: f, t: 'x', by: 'w1' }] } },
      { frame: f, writer: 'w2', utc: T(f * 10 + 2), set: { agents: { a: { load: b } } }, items: { posts: [{ id: f, t: 'y', by: 'w2' }] } },
    ]);
    await s.merge();
  }
  return s;
}

describe('whatIf', () => {
  it('under max, loads take the peak: the diff and the conflicts that change winner say so; the store is untouched', async () => {
    const s = await history('a');
    const before = treeHash(s.dir);
    const r = whatIf(s.context, { plan: parsePlan({ policies: { agents: { load: 'max' } } }) });
    expect(treeHash(s.dir)).toBe(before);
    expect(r.merges).toBe(3);
    expect(r.diff.fields).toEqual([expect.objectContaining({ type: 'agents', id: 'a', field: 'load', old: 1, new: 5 })]);
    // merge 1: 5 vs 3 — lww picked 3 (w2), max 5 (w1); merge 2: max keeps 5 over 2 and 4; merge 3 writes 1 and 1: no conflict in either
    expect(r.conflicts.changedWinner.map((c) => [c.real.merge, c.real.kind === 'field' && c.real.winner.value, c.whatif.kind === 'field' && c.whatif.winner.value])).toEqual([[1, 3, 5], [2, 4, 5]]);
    expect(r.conflicts.appeared.map((c) => c.merge)).toEqual([3]); // under max, the stored 5 beats both writes of 1
    expect(r.conflicts.vanished).toEqual([]);
    expect(r.quarantined).toEqual([]);
  });

  it('other item keys: items the real run deduplicated come apart, and their conflicts vanish', async () => {
    const s = await history('b');
    const r = whatIf(s.context, { plan: parsePlan({ keys: { posts: ['id', 'by'] } }) });
    // Keyed by (id, by), each writer's item stands: six items under new keys where three stood.
    expect(r.diff.items.map((i) => i.key)).toEqual(['[1,"w1"]', '[1,"w2"]', '[2,"w1"]', '[2,"w2"]', '[3,"w1"]', '[3,"w2"]']);
    expect(r.diff.itemsRemoved.map((i) => i.key)).toEqual(['[1]', '[2]', '[3]']);
    expect(r.conflicts.vanished.filter((c) => c.kind === 'item').map((c) => c.merge)).toEqual([1, 2, 3]);
  });

  it('--from keeps the real plan up to it; --keep leaves a scratch store that verifies and reads like any store', async () => {
    const s = await history('c');
    const keep = join(root, 'kept');
    const r = whatIf(s.context, { plan: parsePlan({ policies: { agents: { load: 'max' } } }), from: 1, scratchDir: keep });
    expect(r.merges).toBe(2);
    expect(r.scratch).toBe(keep);
    // Merge 1 kept lww (3), so max starts from 3: merge 2 gives 4, merge 3 keeps 4.
    expect(r.diff.fields).toEqual([expect.objectContaining({ old: 1, new: 4 })]);
    expect(r.conflicts.changedWinner.map((c) => c.real.merge)).toEqual([]);
    expect(r.conflicts.appeared.map((c) => c.merge)).toEqual([3]);
    const v = run(['verify', '--dir', keep]);
    expect(v.code, v.out + v.err).toBe(0);
    expect(JSON.parse(run(['state', '--dir', keep]).out).entities.agents.a.load).toBe(4);
  });

  it('a delta the other plan refuses is reported as quarantined in the what-if run', async () => {
    const s = await openStore(join(root, 'd'), { create: true, plan: { shape: { extra: 'meta' } } });
    await s.put([{ frame: 1, writer: 'w1', utc: T(1), counters: { n: 1 } }, Buffer.from(JSON.stringify({ frame: 1, writer: 'w2', utc: T(2), extra: 1 }))]);
    await s.merge();
    const r = whatIf(s.context, { plan: parsePlan({}) });
    expect(r.quarantined).toEqual([expect.objectContaining({ merge: 1, why: expect.stringMatching(/^extra: unknown key extra/) })]);
  });
});

describe('framelog whatif (CLI)', () => {
  it('prints the report, as text and as JSON; bad input is one line and a non-zero exit', async () => {
    const s = await history('e');
    const plan = join(root, 'max.json');
    writeFileSync(plan, JSON.stringify({ version: 1, policies: { agents: { load: 'max' } } }));
    const text = run(['whatif', '--plan', plan, '--dir', s.dir]);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain('3 merges replayed in a scratch store');
    expect(text.out).toContain('set agents/a.load: 1 → 5');
    expect(text.out).toContain('conflicts: 1 appear, 0 vanish, 2 change winner');
    expect(text.out).toMatch(/~ merge 1 field agents\/a\.load: 3 \(w2, lww\) → 5 \(w1, max\)/);
    const json = JSON.parse(run(['whatif', '--plan', plan, '--to', '2', '--json', '--dir', s.dir]).out);
    expect(json).toMatchObject({ from: null, to: 2, merges: 2 });
    const bad: Array<[string[], RegExp]> = [
      [['--plan', join(root, 'none.json')], /^framelog: --plan .*none\.json: no such file\n$/],
      [['--plan', plan, '--from', '3'], /^framelog: --from 3: must be below --to \(3\)\n$/],
      [[], /required option '--plan <file>'/],
    ];
    writeFileSync(join(root, 'badpolicy.json'), JSON.stringify({ policies: { agents: { load: 'biggest' } } }));
    bad.push([['--plan', join(root, 'badpolicy.json')], /^framelog: .*badpolicy\.json: policies\.agents\.load: unknown policy "biggest"/]);
    for (const [args, want] of bad) {
      const r = run(['whatif', ...args, '--dir', s.dir]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err, args.join(' ')).toMatch(want);
    }
  });
});
