import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCondition, parseJoin, runQuery } from './index.js';
import { expectedSlowFailedT2, fixtureDispatches, writeOrchestratorStreams } from './testing/orchestratorFixture.js';

const repo = path.resolve(import.meta.dirname, '../..');
let dir: string;
const dispatches = fixtureDispatches();
const expected = expectedSlowFailedT2(dispatches);

const joinQuestion = [
  '--type', 'gate', '--where', 'result=fail',
  '--join', 'receipts:dispatch_id', '--where', 'receipts.type=task_complete',
  '--where', 'receipts.worker=T2', '--where', 'receipts.duration_ms>300000',
  '--select', 'dispatch_id', '--distinct',
];

async function collect(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of it) out.push(x);
  return out;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-query-'));
  await writeOrchestratorStreams(dir, dispatches);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('runQuery on the orchestrator fixture', () => {
  it('answers: every dispatch whose gate failed, whose worker was T2, and that ran over 5 minutes', async () => {
    expect(expected.length).toBeGreaterThan(3);
    expect(expected).toContain('edge-just-over');
    expect(expected).not.toContain('edge-exact');
    const rows = await collect(runQuery(dir, {
      from: 'audit',
      types: ['gate'],
      where: ['result=fail', 'receipts.type=task_complete', 'receipts.worker=T2', 'receipts.duration_ms>300000'].map(parseCondition),
      joins: [parseJoin('receipts:dispatch_id')],
      select: ['dispatch_id'],
      distinct: true,
    }));
    expect(rows).toEqual(expected.map((id) => ({ dispatch_id: id })));
  });

  it('--limit N gives the first N rows, and 0 gives none', async () => {
    const spec = { from: 'audit', types: ['gate'], select: ['dispatch_id'] };
    const all = await collect(runQuery(dir, spec));
    expect(all.length).toBeGreaterThan(2);
    expect(await collect(runQuery(dir, { ...spec, limit: 2 }))).toEqual(all.slice(0, 2));
    expect(await collect(runQuery(dir, { ...spec, limit: 0 }))).toEqual([]);
  });

  it('joins three streams: the register says each such dispatch ended failed', async () => {
    const rows = (await collect(runQuery(dir, {
      from: 'audit',
      types: ['gate'],
      where: ['result=fail', 'receipts.type=task_complete', 'receipts.worker=T2', 'receipts.duration_ms>300000', 'register.state=failed'].map(parseCondition),
      joins: [parseJoin('receipts:dispatch_id'), parseJoin('register:dispatch_id')],
      select: ['dispatch_id', 'register.state', 'receipts.duration_ms'],
      distinct: true,
    }))) as Array<Record<string, unknown>>;
    const want = dispatches.filter((d) => expected.includes(d.id) && d.terminal === 'failed').map((d) => d.id);
    expect(rows.map((r) => r['dispatch_id'])).toEqual(want);
    expect(rows.every((r) => r['register.state'] === 'failed' && (r['receipts.duration_ms'] as number) > 300_000)).toBe(true);
  });

  it('compares instants as instants and refuses an ordering on text', async () => {
    const rows = await collect(runQuery(dir, { from: 'receipts', types: ['task_complete'], where: [parseCondition('started_at>=2026-04-19T16:30:22.000+02:00')], select: ['dispatch_id'] }));
    const cut = Date.parse('2026-04-19T14:30:22.000Z');
    const t0 = Date.parse('2026-04-19T14:00:00.000Z');
    expect(rows.length).toBe(dispatches.filter((_, i) => t0 + i * 10_000 + 2 >= cut).length);
    expect(() => parseCondition('worker>T2')).toThrow(/compares numbers or RFC 3339 instants/);
    expect(() => parseCondition('=x')).toThrow(/not field OP value/);
    expect(() => parseJoin('receipts')).toThrow(/STREAM:key/);
  });

  it.skipIf(!fs.existsSync(path.join(repo, 'dist/cli/queryCommands.js')))('framelog query prints the same answer as NDJSON', () => {
    const out = execFileSync(process.execPath, [path.join(repo, 'dist/cli/main.js'), 'query', 'audit', '--dir', dir, ...joinQuestion], { encoding: 'utf8' });
    expect(out.trim().split('\n').map((l) => JSON.parse(l).dispatch_id)).toEqual(expected);
  });
});
