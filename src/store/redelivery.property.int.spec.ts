// PROTOCOL §2 rule 5 at store level: put every archived delta back into the inbox (new names) and
// merge again: the state does not change, nothing is applied, identical copies are duplicates,
// conflicting copies are delta conflicts again, fallbacks are fallbacks again; verify stays ok.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDelta } from '../delta/validateDelta.js';
import type { ValidDelta } from '../delta/types.js';
import type { DeltaConflict } from '../merge/records.js';
import { deltaSetArb, TEST_KEYS, TEST_PLAN } from '../testing/deltaArbitraries.js';
import { givenStore } from '../testing/given.js';
import { readArchiveEntries } from './history/archive.js';

const ref = (r: { frame: number; writer: string; seq: number; sha256: string }): string => `${r.frame}/${r.writer}/${r.seq}/${r.sha256}`;

describe('redelivery of the whole archive (PROTOCOL §2.5)', () => {
  it('changes no state, applies nothing, and lists every copy as a duplicate, a delta conflict or a fallback', async () => {
    await fc.assert(
      fc.asyncProperty(deltaSetArb({ redeliveries: true }), fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), async (raws, firstRound) => {
        const s = await givenStore({ keys: TEST_KEYS });
        try {
          // Two rounds of put + merge, so the archive holds late deltas and redeliveries too.
          const a = raws.filter((_, i) => firstRound[i % 20]);
          const b = raws.filter((_, i) => !firstRound[i % 20]);
          if (a.length > 0) await s.put(...a);
          await s.merge();
          if (b.length > 0) await s.put(...b);
          await s.merge();

          const before = await s.stateJson();
          const log = await s.log();
          const last = log.at(-1)!.frame;
          const kept = new Map<string, string>();
          for (const r of log) for (const x of r.applied) kept.set(`${x.frame}/${x.writer}/${x.seq}`, x.sha256);

          // Every archived file back into the inbox under a new name.
          const copies: Array<{ name: string; delta: ValidDelta }> = [];
          for (const r of log) {
            for (const e of readArchiveEntries(s.store.context, r.frame).entries) {
              const name = `redelivered.${r.frame}.${e.name}`;
              writeFileSync(join(s.dir, 'inbox', name), e.bytes);
              const check = parseDelta(readFileSync(join(s.dir, 'inbox', name)), TEST_PLAN);
              if (!check.ok) throw new Error(`archived delta ${r.frame}/${e.name} does not parse`);
              copies.push({ name, delta: check.delta });
            }
          }
          expect(copies.length).toBeGreaterThan(0);

          const records = await s.merge();
          expect(records).toHaveLength(1);
          const rec = records[0];
          const archiveRel = `archive/merge-${String(last + 1).padStart(9, '0')}.ndjson`;
          expect(rec.frame).toBe(last + 1);
          expect(rec.applied).toEqual([]);
          expect(rec.late).toEqual([]);
          expect(rec.quarantined).toEqual([]);

          const ok = copies.filter((c) => c.delta.status === 'ok');
          const identical = ok.filter((c) => kept.get(`${c.delta.frame}/${c.delta.writer}/${c.delta.seq}`) === c.delta.sha256);
          const conflicting = ok.filter((c) => !identical.includes(c));
          for (const c of conflicting) expect(kept.has(`${c.delta.frame}/${c.delta.writer}/${c.delta.seq}`)).toBe(true);

          expect(rec.duplicates.map(ref).sort()).toEqual(identical.map((c) => ref(c.delta)).sort());
          expect(new Set(rec.fallback)).toEqual(new Set(copies.filter((c) => c.delta.status === 'fallback').map((c) => c.delta.writer)));
          // One delta conflict record per identity, listing every conflicting copy in `others`.
          const idOf = (d: { frame: number; writer: string; seq: number }) => `${d.frame}/${d.writer}/${d.seq}`;
          expect(rec.conflicts).toBe(new Set(conflicting.map((c) => idOf(c.delta))).size);
          const conflicts = (await s.conflicts({ frame: rec.frame })) as DeltaConflict[];
          expect(conflicts.every((c) => c.kind === 'delta')).toBe(true);
          const show = (c: { frame: number; writer: string; seq: number; kept: string; sha256: string; file: string }) => JSON.stringify([c.frame, c.writer, c.seq, c.kept, c.sha256, c.file]);
          expect(conflicts.flatMap((c) => c.others.map((o) => show({ ...c, ...o }))).sort()).toEqual(
            conflicting.map((c) => show({ ...c.delta, kept: kept.get(idOf(c.delta))!, file: `${archiveRel}#${c.name}` })).sort(),
          );
          for (const c of conflicts) expect([c.other, c.file]).toEqual([c.others[0].sha256, c.others[0].file]);

          expect(await s.stateJson()).toBe(before);
          expect(await s.stateJson(last)).toBe(before);
          expect(readdirSync(join(s.dir, 'inbox'))).toEqual([]);
          expect(readdirSync(join(s.dir, 'quarantine'))).toEqual([]);
          expect(readArchiveEntries(s.store.context, last + 1).entries.map((e) => e.name).sort()).toEqual(copies.map((c) => c.name).sort());
          const report = await s.verify();
          expect(report.faults).toEqual([]);
          expect(report.ok).toBe(true);
        } finally {
          s.dispose();
        }
      }),
      { numRuns: 25 },
    );
  });
});
