import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledForTests } from './testing/compiledForTests.js';
import { givenEmptyStore, inParallel, removeStores, runStreamCli } from './testing/streamFixtures.js';

afterAll(removeStores);

// The JSONTestSuite corpus, kept in the repository (src/testing/data/jsontestsuite, MIT).
const suite = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../testing/data/jsontestsuite');

beforeAll(() => {
  compiledForTests();
});

describe('framelog append', () => {
  it('appends one JSON argument, or NDJSON from stdin, and says where with --json', async () => {
    const dir = givenEmptyStore('cli');
    const first = await runStreamCli(['append', '--dir', dir, 'receipts', '{"type":"task_started","task":1}']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^appended 1 record to streams\/receipts\.ndjson \(cursor 0, next \d+\)\n$/);
    const r = await runStreamCli(['append', '--dir', dir, 'receipts', '-', '--json'], '{"type":"task_complete","task":1}\n{"type":"task_failed","task":2}\n');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { appended: number; cursor: number; next: number };
    expect(out).toMatchObject({ stream: 'receipts', appended: 2 });
    const content = fs.readFileSync(path.join(dir, 'streams/receipts.ndjson'), 'utf8');
    expect(out.next).toBe(Buffer.byteLength(content));
    expect(content.split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['task_started', 'task_complete', 'task_failed']);
    const viaEnv = await runStreamCli(['append', 'x'], '{"a":1}\n', { FRAMELOG_DIR: dir });
    expect(viaEnv.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'streams/x.ndjson'))).toBe(true);
  });

  it('refuses every n_ file of JSONTestSuite with a one-line reason, leaving the stream byte-for-byte unchanged', async () => {
    const dir = givenEmptyStore('cli-bad');
    await runStreamCli(['append', '--dir', dir, 'audit', '{"before":true}']);
    const file = path.join(dir, 'streams/audit.ndjson');
    const before = fs.readFileSync(file);
    const files = fs.readdirSync(suite).filter((f) => f.startsWith('n_'));
    expect(files).toHaveLength(188);
    const failures: string[] = [];
    await inParallel(files, 3, async (f) => {
      const r = await runStreamCli(['append', '--dir', dir, 'audit', '-'], fs.readFileSync(path.join(suite, f)));
      if (r.code !== 1 || !/^framelog: stdin\b[^\n]*\n$/.test(r.stderr)) failures.push(`${f}: exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`);
    });
    expect(failures).toEqual([]);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  }, 120_000);

  it('refuses non-objects, invalid UTF-8, a record over the limit and bad stream names', async () => {
    const dir = givenEmptyStore('cli-refuse');
    await runStreamCli(['append', '--dir', dir, 'audit', '{"before":true}']);
    const file = path.join(dir, 'streams/audit.ndjson');
    const before = fs.readFileSync(file);
    const refusals: [string[], Buffer | string | undefined, RegExp][] = [
      [['[1]'], undefined, /argument: got an array; a record must be a JSON object/],
      [['"text"'], undefined, /argument: got a string/],
      [['null'], undefined, /argument: got null/],
      [['42'], undefined, /argument: got a number/],
      [['-'], Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d, 0x0a]), /stdin: line 1 is not valid UTF-8/],
      [['-'], Buffer.from('{"ok":1}\n{"a":"\xff"}\n', 'latin1'), /stdin: line 2 is not valid UTF-8/],
      [['-'], '{"ok":1}\n{"a":1e999}\n', /record 2 of 2 holds the number Infinity/],
      [['-'], '{"ok":1}\n{"ts":"yesterday"}\n', /"ts" "yesterday"/],
      [['-'], `{"big":"${'x'.repeat(16 * 1024 * 1024)}"}\n`, /is 16777\d+ bytes, over the limit of 16777216 bytes/],
      [['-', '--max-record-bytes', '50'], `{"ok":1}\n{"big":"${'x'.repeat(60)}"}\n`, /record 2 of 2 is \d+ bytes, over the limit of 50 bytes/],
      [['-'], '', /no record given/],
    ];
    for (const [args, stdin, reason] of refusals) {
      const r = await runStreamCli(['append', '--dir', dir, 'audit', ...args], stdin);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^framelog: [^\n]+\n$/);
      expect(r.stderr).toMatch(reason);
    }
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    for (const name of ['..', '.', '../audit', 'a/b', 'x'.repeat(129), 'sp ace', '']) {
      const r = await runStreamCli(['append', '--dir', dir, name, '{}']);
      expect(r.code, name).toBe(1);
      expect(r.stderr).toMatch(/^framelog: stream name .* is not allowed[^\n]*\n$/);
    }
    expect(fs.readdirSync(path.join(dir, 'streams')).filter((f) => !f.startsWith('.'))).toEqual(['audit.ndjson']);
    expect(fs.readdirSync(dir).sort()).toEqual(['streams']);
  }, 60_000);
});

describe('framelog read, tail, streams', () => {
  let dir = '';
  beforeAll(async () => {
    dir = givenEmptyStore('cli-read');
    const records = [
      { ts: '2026-04-19T14:30:00Z', type: 'dispatch_created', id: 'd1', agent: { id: 7 } },
      { ts: '2026-04-19T14:30:00.5Z', type: 'task_started', id: 'd1' },
      { ts: '2026-04-19T16:30:01+02:00', type: 'dispatch_completed', id: 'd1', ok: true },
      { ts: '2026-04-19T14:31:00Z', type: 'task_started', id: 'd2', agent: { id: 8 } },
    ];
    await runStreamCli(['append', '--dir', dir, 'register', '-'], records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  });

  const ids = (stdout: string): string[] => stdout.split('\n').filter(Boolean).map((l) => { const r = JSON.parse(l) as { type: string; id: string }; return `${r.type}:${r.id}`; });

  it('prints matching records as NDJSON, filtered by type, field and time as instants', async () => {
    expect(ids((await runStreamCli(['read', '--dir', dir, 'register'])).stdout)).toHaveLength(4);
    expect(ids((await runStreamCli(['read', '--dir', dir, 'register', '--type', 'task_started'])).stdout)).toEqual(['task_started:d1', 'task_started:d2']);
    expect(ids((await runStreamCli(['read', '--dir', dir, 'register', '--type', 'task_started', '--type', 'dispatch_created', '--where', 'id=d1'])).stdout)).toEqual(['dispatch_created:d1', 'task_started:d1']);
    expect(ids((await runStreamCli(['read', '--dir', dir, 'register', '--where', 'agent.id=8'])).stdout)).toEqual(['task_started:d2']);
    expect(ids((await runStreamCli(['read', '--dir', dir, 'register', '--since', '2026-04-19T14:30:00.1Z'])).stdout)).toEqual(['task_started:d1', 'dispatch_completed:d1', 'task_started:d2']);
    expect(ids((await runStreamCli(['read', '--dir', dir, 'register', '--since', '2026-04-19T16:30:00.7+02:00', '--until', '2026-04-19T14:31:00Z'])).stdout)).toEqual(['dispatch_completed:d1']);
  });

  it('gives cursors, resumes from one, and refuses a bad one', async () => {
    const withCursors = (await runStreamCli(['read', '--dir', dir, 'register', '--cursors'])).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { cursor: number; next: number; record: { id: string } });
    expect(withCursors[0]!.cursor).toBe(0);
    const resumed = await runStreamCli(['read', '--dir', dir, 'register', '--since', String(withCursors[1]!.next)]);
    expect(ids(resumed.stdout)).toEqual(['dispatch_completed:d1', 'task_started:d2']);
    const bad = await runStreamCli(['read', '--dir', dir, 'register', '--since', '3']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^framelog: cursor 3 is not at the start of a record/);
    const badTime = await runStreamCli(['read', '--dir', dir, 'register', '--since', 'yesterday']);
    expect(badTime.stderr).toMatch(/^framelog: --since "yesterday" is not an RFC 3339 timestamp/);
    const missing = await runStreamCli(['read', '--dir', dir, 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^framelog: no stream "nope"/);
  });

  it('reports a corrupt line with file and line number on stderr, and --strict fails', async () => {
    const d = givenEmptyStore('cli-corrupt');
    fs.mkdirSync(path.join(d, 'streams'));
    fs.writeFileSync(path.join(d, 'streams/a.ndjson'), '{"i":1}\n{"i":\n{"i":3}\n');
    const r = await runStreamCli(['read', '--dir', d, 'a']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"i":1}\n{"i":3}\n');
    expect(r.stderr).toMatch(/streams\/a\.ndjson:2 \(byte 8, 5 bytes\): corrupt line skipped/);
    expect(r.stderr).toMatch(/1 corrupt line skipped/);
    expect((await runStreamCli(['read', '--dir', d, 'a', '--strict'])).code).toBe(1);
  });

  it('tails the last N records (default 10)', async () => {
    expect(ids((await runStreamCli(['tail', '--dir', dir, '-n', '2', 'register'])).stdout)).toEqual(['dispatch_completed:d1', 'task_started:d2']);
    expect(ids((await runStreamCli(['tail', '--dir', dir, 'register'])).stdout)).toHaveLength(4);
    expect((await runStreamCli(['tail', '--dir', dir, '-n', 'x', 'register'])).stderr).toMatch(/^framelog: -n "x" is not a whole number/);
  });

  it('lists streams with records, bytes and last time', async () => {
    const json = JSON.parse((await runStreamCli(['streams', '--dir', dir, '--json'])).stdout) as unknown[];
    expect(json).toEqual([{ name: 'register', records: 4, bytes: fs.statSync(path.join(dir, 'streams/register.ndjson')).size, lastTs: '2026-04-19T14:31:00Z' }]);
    const human = (await runStreamCli(['streams', '--dir', dir])).stdout;
    expect(human).toMatch(/^NAME\s+RECORDS\s+BYTES\s+LAST\nregister\s+4\s+\d+\s+2026-04-19T14:31:00Z\n$/);
    expect(human).not.toMatch(/\u001b/);
  });

  it('tail -f follows new records and a replacement of the file', async () => {
    const d = givenEmptyStore('cli-follow');
    await runStreamCli(['append', '--dir', d, 'live', '{"i":0}']);
    const entry = path.join(compiledForTests(), 'stream/testing/streamProgram.js');
    const child = spawn(process.execPath, [entry, 'tail', '-f', '-n', '5', '--dir', d, 'live'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const waitFor = async (n: number) => {
      for (let waited = 0; out.split('\n').filter(Boolean).length < n; waited += 20) {
        if (waited > 10_000) throw new Error(`timed out with ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor(1);
    await runStreamCli(['append', '--dir', d, 'live', '{"i":1}']);
    await waitFor(2);
    const file = path.join(d, 'streams/live.ndjson');
    fs.writeFileSync(file + '.tmp', '{"i":2}\n');
    fs.renameSync(file + '.tmp', file);
    await runStreamCli(['append', '--dir', d, 'live', '{"i":3}']);
    await waitFor(4);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    expect(out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([0, 1, 2, 3]);
  });
});
