import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveEndedKeys, compactStream, loadArchiveByKeyRule, readStream } from '../stream/index.js';
import { registerProjection, updateView } from '../view/index.js';
import { parseCondition, parseJoin, runQuery } from './index.js';
import { expectedSlowFailedT2, fixtureDispatches, writeOrchestratorStreams } from './testing/orchestratorFixture.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-compacted-query-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the orchestrator scenario after compaction', () => {
  it('query, views and per-dispatch archives all read through the segments', async () => {
    fs.writeFileSync(path.join(dir, 'framelog.json'), JSON.stringify({ version: 1, streams: { register: { chain: true, archiveByKey: { key: 'dispatch_id', field: 'state', terminal: ['done', 'failed'] } } } }));
    const dispatches = fixtureDispatches(50, 11);
    await writeOrchestratorStreams(dir, dispatches.slice(0, 30));
    const viewBefore = (await updateView(dir, registerProjection)).view;
    for (const s of ['receipts', 'audit', 'register']) compactStream(dir, s);
    await writeOrchestratorStreams(dir, dispatches.slice(30));
    compactStream(dir, 'register');
    const keyed = await archiveEndedKeys(dir, 'register', loadArchiveByKeyRule(dir, 'register')!);
    // Every ended dispatch has its lifecycle in streams/archive/<terminal>/<id>.ndjson.
    const ended = dispatches.filter((d) => d.terminal);
    expect(keyed.map((k) => k.key).sort()).toEqual(ended.map((d) => d.id).sort());
    for (const d of ended) {
      const lines = fs.readFileSync(path.join(dir, 'streams/archive', d.terminal!, `${d.id}.ndjson`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((r) => r.state)).toEqual(['queued', 'running', d.terminal]);
    }
    expect(await archiveEndedKeys(dir, 'register', loadArchiveByKeyRule(dir, 'register')!)).toEqual([]); // once per key
    // The join question, answered through segments and live files.
    const rows = [];
    for await (const r of runQuery(dir, {
      from: 'audit', types: ['gate'],
      where: ['result=fail', 'receipts.type=task_complete', 'receipts.worker=T2', 'receipts.duration_ms>300000'].map(parseCondition),
      joins: [parseJoin('receipts:dispatch_id')], select: ['dispatch_id'], distinct: true,
    })) rows.push(r['dispatch_id']);
    expect(rows).toEqual(expectedSlowFailedT2(dispatches));
    // The view's checkpoint, taken before compaction, still resolves: incremental equals rebuild.
    const inc = await updateView(dir, registerProjection);
    expect(inc.rebuilt).toBeUndefined();
    expect(inc.view.checkpoint['register']).toBeGreaterThan(viewBefore.checkpoint['register']!);
    const incText = fs.readFileSync(inc.file, 'utf8');
    await updateView(dir, registerProjection, { rebuild: true });
    expect(fs.readFileSync(inc.file, 'utf8')).toBe(incText);
    let n = 0;
    for await (const _ of readStream(dir, 'register')) n++;
    expect(n).toBe(dispatches.length * 2 + dispatches.filter((d) => d.terminal).length);
  });
});
