import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInvocation } from '../engine/demos/demoSupport.js';
import { checkSameRun } from '../engine/run/runManifest.js';

// The CLI details of issue #18 point 18: what a user reads when nothing happens, when a count is
// wrong, in help, and when a merger starts watching a backlog.
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'framelog-details-'));
const run = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const delta = (frame: number, writer: string) => JSON.stringify({ frame, writer, utc: `2026-01-01T00:00:${String(frame).padStart(2, '0')}Z`, counters: { n: 1 } });

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli/main.js is missing: run npm run build first');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('CLI details', () => {
  it('merge --json with nothing pending: no record on stdout, one line on stderr', () => {
    const store = join(root, 'empty');
    expect(run(['init', '--dir', store]).code).toBe(0);
    expect(run(['merge', '--dir', store, '--json'])).toEqual({ code: 0, out: '', err: 'framelog: nothing to merge\n' });
    expect(run(['merge', '--dir', store]).out).toBe('nothing to merge\n');
  });

  it('help shows one Examples section per command', () => {
    for (const c of ['put', 'merge']) {
      const help = run([c, '--help']).out;
      expect(help.match(/Examples:/g)).toHaveLength(1);
      expect(help).toMatch(/--transport git/);
    }
  });

  it('counts follow one rule: 0 and -5 get the same message', () => {
    for (const demo of [[], ['evolution'], ['git']]) {
      for (const bad of ['0', '-5', 'x']) {
        const r = run(['demo', ...demo, '--frames', bad, '--dir', join(root, 'nodemo')]);
        expect(r.code).toBe(1);
        expect(r.err).toBe(`framelog: --frames: ${JSON.stringify(bad)} is not a whole number ≥ 1\n`);
      }
    }
    expect(existsSync(join(root, 'nodemo'))).toBe(false);
  });

  it('merge --watch says it started, and closes a backlog found in the inbox at once', async () => {
    const store = join(root, 'backlog');
    expect(run(['init', '--dir', store]).code).toBe(0);
    const planFile = join(store, 'framelog.json');
    const plan = JSON.parse(spawnSync('cat', [planFile], { encoding: 'utf8' }).stdout);
    writeFileSync(planFile, JSON.stringify({ ...plan, writers: ['a', 'b'], frameTimeoutMs: 60_000 }));
    // A backlog: both writers went on to frame 4; b said nothing for frame 2.
    const lines = [delta(1, 'a'), delta(1, 'b'), delta(2, 'a'), delta(3, 'a'), delta(3, 'b'), delta(4, 'a'), delta(4, 'b')];
    expect(run(['put', '-', '--dir', store], lines.join('\n') + '\n').code).toBe(0);
    const child = spawn(process.execPath, [CLI, 'merge', '--watch', '--json', '--dir', store], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '', err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    const t0 = Date.now();
    while (out.split('\n').filter(Boolean).length < 4 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(err).toMatch(/^framelog: merge --watch on .*backlog \(fs\): each frame closes when a, b have reported or 60000 ms after its first delta; Ctrl-C stops\n/);
    const frames = out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { frame: number }).frame);
    expect(frames).toEqual([1, 2, 3, 4]);
    expect(Date.now() - t0).toBeLessThan(20_000); // not one 60 s timeout per frame
  });

  it('the writers demo explains its late and missing deltas (the frame timeout), and defaults to 3 s', () => {
    const hurried = run(['demo', '--dir', join(root, 'hurried'), '--frames', '6', '--writers', '3', '--timeout', '0']);
    expect(hurried.code, hurried.err).toBe(0);
    expect(hurried.out).toMatch(/\n {2}why {9}a frame closes when every writer reported or 0 ms after its first delta \(--timeout\); a writer slower than that.* is missing at the close, and its delta, late, is merged by the next merge: nothing is lost\n/);
    expect(hurried.out).toMatch(/verify {6}ok/);
    const json = JSON.parse(run(['demo', '--dir', join(root, 'calm'), '--frames', '3', '--writers', '2', '--json']).out);
    expect(json.frameTimeoutMs).toBe(3000);
  });

  it('run.json keeps the seed as it was given: --seed 7 is the number 7, a text seed stays text, and 7 and "7" are one run (#18 point 18)', async () => {
    const dir = join(root, 'seeded');
    const r = run(['demo', 'evolution', '--seed', '7', '--frames', '3', '--size', '20', '--dir', dir, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).seed).toBe(7);
    expect(JSON.parse(r.out).seed).toBe(7);
    const text = join(root, 'seeded-text');
    expect(run(['demo', 'evolution', '--seed', 'blue', '--frames', '2', '--size', '20', '--dir', text, '--json']).code).toBe(0);
    expect(JSON.parse(readFileSync(join(text, 'run.json'), 'utf8')).seed).toBe('blue');
    // The same run whichever way the seed is spelt; another seed is another run.
    const manifest = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    expect(() => checkSameRun(dir, manifest, { name: manifest.name, seed: '7', shards: manifest.shards })).not.toThrow();
    expect(() => checkSameRun(dir, { ...manifest, seed: '7' }, { name: manifest.name, seed: 7, shards: manifest.shards })).not.toThrow();
    expect(() => checkSameRun(dir, manifest, { name: manifest.name, seed: 8, shards: manifest.shards })).toThrow(/with seed 7, not 8/);
  });

  it('demo summaries give the hash of the final state (framelog state without its newline), never null or an older checkpoint\'s', () => {
    for (const args of [['demo', '--frames', '5', '--writers', '2'], ['demo', 'evolution', '--frames', '7', '--size', '40']]) {
      const dir = join(root, `hash-${args.length}`);
      const r = run([...args, '--dir', dir, '--json']);
      expect(r.code, r.err).toBe(0);
      const state = run(['state', '--dir', dir]).out;
      expect(JSON.parse(r.out).state_sha256, args.join(' ')).toBe(createHash('sha256').update(state.replace(/\n$/, '')).digest('hex'));
    }
  });

  it('a reader that stops reading (| head -1) ends the command quietly: no EPIPE stack trace, exit 0', () => {
    const dir = join(root, 'epipe');
    expect(run(['init', '--dir', dir]).code).toBe(0);
    // 2,000 events of ~200 bytes: far more than a pipe holds, so the writes after head exits fail.
    const events = Array.from({ length: 2000 }, (_, i) => ({ type: 'tick', i, pad: 'x'.repeat(180) }));
    expect(run(['put', '-', '--dir', dir], JSON.stringify({ frame: 1, writer: 'w', utc: '2026-01-01T00:00:00Z', events }) + '\n').code).toBe(0);
    expect(run(['merge', '--dir', dir]).code).toBe(0);
    for (const cmd of ['events', 'log']) {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" ${cmd} --dir "${dir}" | head -1 > /dev/null; echo "rc=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
      expect(r.stderr, cmd).toBe('');
      expect(r.stdout.trim(), cmd).toBe('rc=0');
    }
  });

  it('the git demo explains its late and missing deltas too: the timeout, and pushes to one repository waiting for each other (#18 point 6)', () => {
    const r = run(['demo', 'git', '--dir', join(root, 'git-hurried'), '--frames', '4', '--writers', '3', '--timeout', '0']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\n {2}why {9}a frame closes when every writer reported or 0 ms after its first delta \(--timeout\); a writer slower than that \(over git a delta reaches the merger when its writer's push lands, and 3 writers' pushes to one repository wait for each other and rebase.*\) is missing at the close, .* nothing is lost\n/);
    expect(r.out).toMatch(/verify {6}ok/);
  });

  it('long work is not silent when stderr is not a terminal: the demos print their progress line now and then (#18 point 7)', () => {
    for (const args of [['demo', '--frames', '20', '--writers', '2'], ['demo', 'evolution', '--frames', '40', '--size', '200']]) {
      const r = spawnSync(process.execPath, [CLI, ...args, '--dir', join(root, `progress-${args[1]}`)], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FRAMELOG_PROGRESS_MS: '100' } });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stderr.split('\n').filter((l) => / \d+\/\d+ frames \| /.test(l));
      expect(lines.length, `${args.join(' ')}: ${r.stderr}`).toBeGreaterThanOrEqual(2); // at least one while running and the last
      const frames = args[args.indexOf('--frames') + 1];
      expect(lines.at(-1)).toMatch(new RegExp(` ${frames}/${frames} frames`));
    }
    // --json stays quiet on stderr.
    expect(spawnSync(process.execPath, [CLI, 'demo', '--frames', '3', '--writers', '2', '--json', '--dir', join(root, 'progress-json')], { encoding: 'utf8', env: { ...process.env, FRAMELOG_PROGRESS_MS: '100' } }).stderr).toBe('');
  });

  it('the demos tell a person without framelog on their PATH to use npx framelog', () => {
    const bin = join(root, 'bin');
    mkdirSync(bin, { recursive: true });
    expect(cliInvocation({ PATH: '/nonexistent' })).toBe('npx framelog');
    writeFileSync(join(bin, 'framelog'), '#!/bin/sh\n');
    expect(cliInvocation({ PATH: `/nonexistent:${bin}` })).toBe('framelog');
    // What npx and npm run add to the PATH of what they run is not the user's PATH.
    const npxBin = join(root, '_npx', 'abc', 'node_modules', '.bin');
    mkdirSync(npxBin, { recursive: true });
    writeFileSync(join(npxBin, 'framelog'), '#!/bin/sh\n');
    expect(cliInvocation({ PATH: `${npxBin}:/usr/bin` })).toBe('npx framelog');
    expect(cliInvocation({ PATH: `${npxBin}/:${bin}` })).toBe('framelog');
  });
});
