import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_TYPE, request, serve, tempStore, type Served } from './testing/serverFixture.js';

let s: Served;
beforeAll(async () => {
  // The plan gives stream "orders" a schema and version 2 before the server opens an appender for it.
  const dir = tempStore();
  const planFile = path.join(dir, 'framelog.json');
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(planFile, JSON.stringify({ ...plan, streams: { orders: { version: 2, schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } } } }));
  s = await serve({}, dir);
});
afterAll(() => s.close());

describe('stream schema errors over HTTP', () => {
  it('a record the schema refuses is a 400 naming the rule, nothing appended; a stored record newer than the plan knows is a 409 saying to upgrade', async () => {
    const post = (body: unknown) => request(s, 'POST', '/api/streams/orders', { headers: { ...s.auth, ...JSON_TYPE }, body: JSON.stringify(body) });
    expect((await post({ id: 'a1' })).status).toBe(201);
    const bad = await post({ id: 7 });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'schema', message: expect.stringMatching(/breaks the schema in framelog.json streams.orders.schema/) });
    // A newer writer appended a version-3 record (by hand here): reading it is refused, not a 500.
    fs.appendFileSync(path.join(s.dir, 'streams', 'orders.ndjson'), JSON.stringify({ id: 'a2', v: 3, ts: '2026-01-01T00:00:00Z' }) + '\n');
    const read = await request(s, 'GET', '/api/streams/orders/records');
    expect(read.status).toBe(409);
    expect(read.json).toMatchObject({ error: 'schema-version', message: expect.stringMatching(/newer than version 2 this reader knows: upgrade the reader/) });
    expect(read.text).not.toContain(s.dir);
  });
});
