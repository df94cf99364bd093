import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function newStore(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-serve-')), 'store');
  expect(cli(['init', '--dir', dir]).code).toBe(0);
  return dir;
}

/** Starts `framelog serve --json` and resolves once it announced its URL. */
function serveCli(args: string[]): Promise<{ child: ChildProcess; url: string; err: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ child, url: JSON.parse(out.split('\n')[0]).url, err: () => err });
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli/main.js is missing: run npm run build first');
});

describe('framelog init / token', () => {
  it('init creates the token (0600 in a 0700 folder) and a .gitignore that keeps it and the lock out of git', () => {
    const dir = newStore();
    const file = path.join(dir, '.secrets', 'token');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['.secrets/', 'merger.lock']));
    const shown = cli(['token', '--dir', dir]);
    expect(shown.code).toBe(0);
    expect(shown.out.trim()).toBe(fs.readFileSync(file, 'utf8').trim());
    const rotated = cli(['token', '--dir', dir, '--rotate', '--json']);
    expect(JSON.parse(rotated.out)).toMatchObject({ rotated: true });
    expect(JSON.parse(rotated.out).token).not.toBe(shown.out.trim());
    expect(cli(['token', '--dir', dir]).out.trim()).toBe(JSON.parse(rotated.out).token);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('token refuses a folder without a store, in one line', () => {
    const r = cli(['token', '--dir', path.join(os.tmpdir(), 'no-such-framelog-store')]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/no framelog store here/);
  });
});

describe('framelog serve', () => {
  it('announces its URL, serves, warns when bound beyond loopback with open reads, and stops on SIGTERM', async () => {
    const dir = newStore();
    const { child, url } = await serveCli(['--dir', dir]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    const stopped = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    expect(await stopped).toBe(0);

    const wide = await serveCli(['--dir', dir, '--host', '0.0.0.0']);
    expect(wide.err()).toMatch(/warning: bound to 0\.0\.0\.0 without a token on reads/);
    wide.child.kill('SIGTERM');
  });

  it('makes the token lazily for a store made by the library, and refuses a bad port or a port in use in one line', async () => {
    const dir = newStore();
    fs.rmSync(path.join(dir, '.secrets'), { recursive: true });
    const { child, url } = await serveCli(['--dir', dir]);
    expect(fs.existsSync(path.join(dir, '.secrets', 'token'))).toBe(true);
    const port = new URL(url).port;
    const busy = cli(['serve', '--dir', dir, '--port', port]);
    expect(busy.code).toBe(1);
    expect(busy.err).toMatch(/in use/);
    expect(cli(['serve', '--dir', dir, '--port', '70000']).code).toBe(1);
    expect(cli(['serve', '--dir', dir, '--port', 'x']).code).toBe(1);
    child.kill('SIGTERM');
  });

  it('a client that stops reading does not grow the server process past a fixed bound (measured RSS)', async () => {
    const dir = newStore();
    const file = path.join(dir, 'streams', 'flood.ndjson');
    fs.writeFileSync(file, '');
    const { child, url } = await serveCli(['--dir', dir]);
    const res = await new Promise<http.IncomingMessage>((resolve) => http.get(`${url}/api/streams/flood/events`, resolve).on('error', () => undefined));
    res.on('error', () => undefined);
    await new Promise((r) => res.once('data', r));
    res.pause();
    // A healthy client on the same stream keeps the server framing every record.
    let healthy = 0;
    const reader = await new Promise<http.IncomingMessage>((resolve) => http.get(`${url}/api/streams/flood/events`, resolve).on('error', () => undefined));
    reader.on('error', () => undefined);
    reader.on('data', (d: Buffer) => (healthy += d.length));
    let line = '';
    for (let i = 0; line.length < 1 << 20; i++) line += `{"i":${i},"pad":"${'x'.repeat(200)}"}\n`;
    await new Promise((r) => setTimeout(r, 300));
    const base = rssOf(child.pid!);
    let peak = base;
    const flood = async (mib: number) => {
      for (let k = 0; k < mib; k++) {
        fs.appendFileSync(file, line);
        if (k % 8 === 0) {
          await new Promise((r) => setTimeout(r, 20));
          peak = Math.max(peak, rssOf(child.pid!));
        }
      }
      await new Promise((r) => setTimeout(r, 200));
      return rssOf(child.pid!);
    };
    // Warm up (the heap finds its working size), then send twice as much again: memory that
    // followed the data would grow by it; a bound shows as a plateau.
    const warm = await flood(96);
    const after = await flood(192);
    await expect.poll(() => healthy, { timeout: 30_000 }).toBeGreaterThan(288 * 1024 * 1024);
    const mib = (x: number) => (x / 1048576).toFixed(1);
    console.log(`server RSS ${mib(base)} MiB at start, ${mib(warm)} after 96 MiB, ${mib(after)} after 192 MiB more (peak ${mib(peak)}) went to a client that reads nothing (and ${mib(healthy)} MiB to one that reads)`);
    expect(after - warm).toBeLessThan(64 * 1024 * 1024);
    expect(peak - base).toBeLessThan(128 * 1024 * 1024);
    res.destroy();
    reader.destroy();
    child.kill('SIGTERM');
  });
});
