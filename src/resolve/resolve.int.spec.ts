// framelog resolve and Store.resolve (PROTOCOL v1.1 §2a): every way to decide, by id and in bulk,
// resolver modules recorded by content hash and replayed exactly, and bad input that writes nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../delta/contentHash.js';
import { openStore, type Store } from '../store/openStore.js';
import { loadResolver } from './loadResolver.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-resolve-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const run = (args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const T = (s: number) => `2026-04-19T14:00:${String(s).padStart(2, '0')}Z`;
let n = 0;

/** A store with three conflicts in merge 1: an item (m1.0), agents.a.load under max (m1.1), tasks.t.owner under first (m1.2). */
async function conflicted(): Promise<Store> {
  const s = await openStore(join(root, `s${n++}`), { create: true, plan: { policies: { agents: { load: 'max' }, tasks: { owner: 'first' } } } });
  await s.put([
    { frame: 1, writer: 'w1', utc: T(1), set: { agents: { a: { load: 3 } }, tasks: { t: { owner: 'w1' } } }, items: { posts: [{ id: 1, t: 'a' }] } },
    { frame: 1, writer: 'w2', utc: T(2), set: { agents: { a: { load: 5 } }, tasks: { t: { owner: 'w2' } } }, items: { posts: [{ id: 1, t: 'b' }] } },
  ]);
  await s.merge();
  expect((await s.conflicts({ open: true })).map((c) => c.conflict)).toEqual(['m1.0', 'm1.1', 'm1.2']);
  return s;
}
const inbox = (s: Store) => readdirSync(join(s.dir, 'inbox')).sort();

describe('Store.resolve', () => {
  it('closes a conflict with a writer\'s side, outranking the policy; the merge records it and --open drops it', async () => {
    const s = await conflicted();
    const r = await s.resolve({ ids: ['m1.2'], choice: { winner: 'w2' }, as: 'human.ana' });
    expect(r.resolves).toEqual(['m1.2']);
    expect(r.deltas[0]).toMatchObject({ frame: 2, writer: 'human.ana', set: { tasks: { t: { owner: 'w2' } } }, resolves: ['m1.2'], meta: { resolution: { by: 'winner', winner: 'w2' } } });
    const [rec] = await s.merge();
    expect(rec.resolved).toEqual([{ conflict: 'm1.2', frame: 2, writer: 'human.ana', seq: 0 }]);
    expect((await s.stateAt()).entities.tasks.t.owner).toBe('w2');
    expect((await s.conflicts({ open: true })).map((c) => c.conflict)).toEqual(['m1.0', 'm1.1']);
    expect((await s.conflicts({ open: false }))[0]).toMatchObject({ conflict: 'm1.2', resolvedBy: { merge: 2, writer: 'human.ana' } });
    expect((await s.verify()).ok).toBe(true);
  });

  it('a policy over the sides (min picks 3), keep writes nothing, a value replaces an item in its place', async () => {
    const s = await conflicted();
    await s.resolve({ ids: ['m1.1'], choice: { policy: 'min' } });
    await s.resolve({ ids: ['m1.2'], choice: { keep: true }, as: 'human.bo' });
    await s.resolve({ ids: ['m1.0'], choice: { value: { id: 1, t: 'c' } }, as: 'human.bo' });
    expect(inbox(s)).toHaveLength(3); // human.bo's two resolutions took seq 0 and 1
    expect(inbox(s).filter((f) => f.includes('.human.bo.1.'))).toHaveLength(1);
    await s.merge();
    const st = await s.stateAt();
    expect(st.entities.agents.a.load).toBe(3);
    expect(st.entities.tasks.t.owner).toBe('w1');
    expect(st.items.posts).toEqual([{ id: 1, t: 'c' }]);
    expect(await s.conflicts({ open: true })).toEqual([]);
    expect((await s.log())[1].conflicts).toBe(0); // replacing an earlier merge's item is no new conflict
    expect((await s.verify()).ok).toBe(true);
  });

  it('bulk: every open conflict passing the filters, in as few deltas as fit; nothing matches → no delta', async () => {
    const s = await conflicted();
    const r = await s.resolve({ filter: { kind: 'field' }, choice: { policy: 'lww' } });
    expect(r.resolves).toEqual(['m1.1', 'm1.2']);
    expect(r.deltas).toHaveLength(1);
    const none = await s.resolve({ filter: { type: 'nosuch' }, choice: { keep: true } });
    expect(none.deltas).toEqual([]);
    await expect(s.resolve({ choice: { keep: true } })).rejects.toThrow(/name conflict ids, or filters/);
    const all = await s.resolve({ all: true, choice: { keep: true }, as: 'human.c' });
    expect(all.resolves).toEqual(['m1.0', 'm1.1', 'm1.2']); // still open: the first resolution is not merged yet
  });

  it('refuses bad requests naming what is wrong, and writes nothing', async () => {
    const s = await conflicted();
    const before = inbox(s);
    await expect(s.resolve({ ids: ['m9.0'], choice: { keep: true } })).rejects.toThrow(/^m9\.0: no such conflict; nothing was written$/);
    await expect(s.resolve({ ids: ['m1.7'], choice: { keep: true } })).rejects.toThrow(/^m1\.7: no such conflict/);
    await expect(s.resolve({ ids: ['x'], choice: { keep: true } })).rejects.toThrow(/^x: not a conflict id/);
    await expect(s.resolve({ ids: ['m1.2'], choice: { winner: 'w9' } })).rejects.toThrow(/^--winner w9: m1\.2 has no side written by w9 \(its writers: w1, w2\)$/);
    await expect(s.resolve({ ids: ['m1.0'], choice: { value: { id: 2, t: 'x' } } })).rejects.toThrow(/natural key is \[2\], not the conflict's \[1\]/);
    await expect(s.resolve({ ids: ['m1.0'], choice: { value: 'x' } })).rejects.toThrow(/must be a JSON object \(the item\)/);
    await expect(s.resolve({ ids: ['m1.0', 'm1.2'], choice: { value: 'x' } })).rejects.toThrow(/must be a JSON object/); // all or nothing
    await expect(s.resolve({ ids: ['m1.2'] })).rejects.toThrow(/give one way to decide/);
    expect(inbox(s)).toEqual(before);
  });
});

describe('resolver modules', () => {
  const mod = join(root, 'peak.mjs');
  writeFileSync(mod, [
    'export function resolve(conflict, state) {',
    "  if (conflict.kind !== 'field' || conflict.field !== 'load') return undefined;",
    '  return Math.max(conflict.winner.value, ...conflict.losers.map((l) => l.value)) + Object.keys(state.entities).length;',
    '}',
  ].join('\n'));

  it('decides what it answers, leaves the rest open, and the resolution records the module\'s hash', async () => {
    const s = await conflicted();
    const r = run(['resolve', '--all', '--with', mod, '--dir', s.dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('the resolver left 2 open: m1.0 m1.2');
    expect(r.out).toMatch(/^resolved 1 conflict \(m1\.1\) as policy\.peak at frame 2: put 1 delta; the next merge applies it\n$/);
    const [file] = inbox(s);
    const delta = JSON.parse(readFileSync(join(s.dir, 'inbox', file), 'utf8'));
    expect(delta.meta).toEqual({ resolution: { by: 'resolver', module: 'peak.mjs', sha256: sha256Hex(readFileSync(mod)) } });
    expect(delta.set).toEqual({ agents: { a: { load: 7 } } }); // 5, plus the two entity types of the state it saw
    expect(run(['merge', '--dir', s.dir]).code).toBe(0);
    expect(JSON.parse(run(['state', '--dir', s.dir]).out).entities.agents.a.load).toBe(7);
    expect(run(['conflicts', '--open', '--dir', s.dir]).out.trim().split('\n').map((l) => JSON.parse(l).conflict)).toEqual(['m1.0', 'm1.2']);
    expect(run(['verify', '--dir', s.dir]).code).toBe(0);
  });

  it('the same module and deltas give the same resolution and the same state on replay', async () => {
    const runOnce = async () => {
      const s = await conflicted();
      const r = await s.resolve({ all: true, resolver: await loadResolver(mod), utc: T(30) });
      await s.merge();
      return { sha: (await s.log())[1].applied[0].sha256, state: JSON.stringify(await s.stateAt()), r };
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(b.sha).toBe(a.sha);
    expect(b.state).toBe(a.state);
  });

  it('an edited module is loaded anew under its new hash; a module without resolve is refused', async () => {
    const m2 = join(root, 'edit.mjs');
    writeFileSync(m2, 'export const resolve = () => 1;');
    const first = await loadResolver(m2);
    writeFileSync(m2, 'export const resolve = () => 2;');
    const second = await loadResolver(m2);
    expect(second.sha256).not.toBe(first.sha256);
    expect(await second.resolve({} as never, {} as never)).toBe(2);
    writeFileSync(m2, 'export const decide = () => 2;');
    await expect(loadResolver(m2)).rejects.toThrow(/exports no resolve\(conflict, state\) function/);
    await expect(loadResolver(join(root, 'missing.mjs'))).rejects.toThrow(/no such file/);
  });
});

describe('framelog resolve (CLI)', () => {
  it('by id with --value, in bulk with --policy, --dry-run writes nothing; one-line errors, non-zero exit', async () => {
    const s = await conflicted();
    const dry = run(['resolve', '--type', 'agents', '--policy', 'min', '--dry-run', '--dir', s.dir]);
    expect(dry.code, dry.err).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ writer: 'policy.min', set: { agents: { a: { load: 3 } } }, resolves: ['m1.1'] });
    expect(inbox(s)).toEqual([]);
    const bad: Array<[string[], RegExp]> = [
      [['m1.2'], /^framelog: give exactly one of --value, --winner, --policy, --keep, --with \(got none\)\n$/],
      [['m1.2', '--keep', '--winner', 'w1'], /^framelog: give exactly one of .*\(got --winner, --keep\)\n$/],
      [['m1.2', '--value', 'idle'], /^framelog: --value: not JSON \(a string needs its quotes/],
      [['m1.2', '--policy', 'biggest'], /^framelog: --policy: unknown policy "biggest"/],
      [['m1.2', '--policy', '{"priority":"w1"}'], /^framelog: --policy: must be a non-empty list/],
      [['m4.0', '--keep'], /^framelog: m4\.0: no such conflict; nothing was written\n$/],
      [['--keep'], /^framelog: name conflict ids, or filters/],
      [['--all', '--with', join(root, 'nope.mjs')], /^framelog: --with .*nope\.mjs: no such file\n$/],
      [['m1.2', '--kind', 'x', '--keep'], /^framelog: --kind: must be field, item or delta/],
    ];
    for (const [args, want] of bad) {
      const r = run(['resolve', ...args, '--dir', s.dir]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err, args.join(' ')).toMatch(want);
    }
    expect(inbox(s)).toEqual([]);
    const ok = run(['resolve', 'm1.2', '--value', '"boss"', '--as', 'human.ana', '--json', '--dir', s.dir]);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ frame: 2, writer: 'human.ana', written: true });
    const again = run(['resolve', 'm1.2', '--keep', '--as', 'human.ana', '--dir', s.dir]);
    expect(again.code).toBe(0);
    expect(inbox(s)).toHaveLength(2);
  });
});
