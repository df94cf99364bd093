import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStreamAppender } from '../openStreamAppender.js';
import { readStream } from '../readStream.js';
import { givenEmptyStore, removeStores } from '../testing/streamFixtures.js';
import { loadStreamSchema, upcastRecord } from './streamSchema.js';
import { validateSchema } from './validateSchema.js';

afterAll(removeStores);

const receiptsV2 = {
  version: 2,
  schema: {
    type: 'object',
    required: ['type', 'dispatch_id', 'worker'],
    properties: {
      type: { type: 'string' },
      dispatch_id: { type: 'string', minLength: 1 },
      worker: { enum: ['T1', 'T2', 'T3'] },
      duration_ms: { type: 'integer', minimum: 0 },
      priority: { enum: ['low', 'normal', 'high'] },
    },
  },
  upcast: { '1': { defaults: { priority: 'normal' } } },
};

function givenPlan(streams: object): string {
  const dir = givenEmptyStore('schema');
  fs.writeFileSync(path.join(dir, 'framelog.json'), JSON.stringify({ version: 1, streams }));
  return dir;
}

async function all(dir: string, name: string) {
  const out = [];
  for await (const e of readStream(dir, name)) out.push(e.record);
  return out;
}

describe('stream schemas and versions', () => {
  it('records of versions 1 and 2 read as version 2, with defaults for the new field', async () => {
    const dir = givenPlan({ receipts: receiptsV2 });
    // Version 1 records written before the plan knew version 2 (no version field means 1).
    fs.mkdirSync(path.join(dir, 'streams'));
    fs.writeFileSync(path.join(dir, 'streams/receipts.ndjson'), [
      '{"ts":"2026-04-19T14:00:00.000Z","type":"task_complete","dispatch_id":"d1","worker":"T2"}',
      '{"ts":"2026-04-19T14:00:01.000Z","type":"task_complete","dispatch_id":"d2","worker":"T1","v":1}',
      '',
    ].join('\n'));
    const a = openStreamAppender(dir, 'receipts');
    await a.append({ type: 'task_complete', dispatch_id: 'd3', worker: 'T3', priority: 'high' });
    await a.close();
    const recs = await all(dir, 'receipts');
    expect(recs.map((r) => [r['v'], r['priority']])).toEqual([[2, 'normal'], [2, 'normal'], [2, 'high']]);
    expect(fs.readFileSync(path.join(dir, 'streams/receipts.ndjson'), 'utf8')).toContain('"v":2');
  });

  it('a version-3 record is refused by a version-2 reader, never misread', async () => {
    const dir = givenPlan({ receipts: receiptsV2 });
    fs.mkdirSync(path.join(dir, 'streams'));
    fs.writeFileSync(path.join(dir, 'streams/receipts.ndjson'), '{"type":"task_complete","dispatch_id":"d1","worker":"T2","v":3,"cost":{"usd":1}}\n');
    await expect(all(dir, 'receipts')).rejects.toThrow(/has v 3, newer than version 2 this reader knows/);
    const schema = loadStreamSchema(dir, 'receipts')!;
    expect(() => upcastRecord(schema, { v: 3 }, 'here')).toThrow(/upgrade the reader/);
    // A writer that knows version 2 cannot append version 3 either.
    const a = openStreamAppender(dir, 'receipts');
    await expect(a.append({ type: 'x', dispatch_id: 'd', worker: 'T1', v: 3 })).rejects.toThrow(/newer than version 2/);
    await a.close();
  });

  it('an append that breaks the schema is refused with a message naming the field, and nothing is written', async () => {
    const dir = givenPlan({ receipts: receiptsV2 });
    const a = openStreamAppender(dir, 'receipts');
    await expect(a.append({ type: 'task_complete', dispatch_id: 'd1', worker: 'T9' })).rejects.toThrow(/field "worker" must be one of "T1", "T2", "T3", not string "T9"/);
    await expect(a.appendBatch([{ type: 't', dispatch_id: 'ok', worker: 'T1' }, { type: 't', worker: 'T1' }])).rejects.toThrow(/record 2 .*field "dispatch_id" is required/);
    await expect(a.append({ type: 't', dispatch_id: 'd', worker: 'T1', duration_ms: -5 })).rejects.toThrow(/field "duration_ms" must be ≥ 0/);
    await a.close();
    expect(fs.existsSync(path.join(dir, 'streams/receipts.ndjson')) ? fs.readFileSync(path.join(dir, 'streams/receipts.ndjson'), 'utf8') : '').toBe('');
  });

  it('validateSchema covers nested objects, arrays, patterns and date-times', () => {
    const s = { type: 'object', properties: { gates: { type: 'array', items: { type: 'object', required: ['result'], properties: { result: { enum: ['pass', 'fail'] } } } }, at: { type: 'string', format: 'date-time' }, id: { type: 'string', pattern: '^d-\\d+$' } }, additionalProperties: false };
    expect(validateSchema({ gates: [{ result: 'pass' }], at: '2026-04-19T14:00:00Z', id: 'd-1' }, s)).toBeUndefined();
    expect(validateSchema({ gates: [{ result: 'maybe' }] }, s)).toMatch(/field "gates.0.result"/);
    expect(validateSchema({ at: 'yesterday' }, s)).toMatch(/field "at" must be an RFC 3339/);
    expect(validateSchema({ id: 'x' }, s)).toMatch(/field "id" must match/);
    expect(validateSchema({ extra: 1 }, s)).toMatch(/field "extra" is not allowed/);
  });
});
