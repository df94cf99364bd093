// The package as a user gets it: `npm pack`'s tarball installed in a project outside the
// repository. Every example runs from a copy there, a strict TypeScript program that uses the
// store, streams, queries, views and the server through the public exports compiles and runs,
// and the tarball holds no test code.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'framelog-consumer-'));
const project = join(work, 'project');
let packed: string[] = [];

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Installs the tarball offline: the package itself, and its dependencies linked from this checkout. */
beforeAll(() => {
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repo, encoding: 'utf8' });
  const info = JSON.parse(out)[0] as { filename: string; files: Array<{ path: string }> };
  packed = info.files.map((f) => f.path);
  const modules = join(project, 'node_modules');
  mkdirSync(modules, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, info.filename), '-C', work]);
  renameSync(join(work, 'package'), join(modules, 'framelog'));
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; optionalDependencies?: Record<string, string> };
  for (const dep of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {}), '@types/node']) {
    const at = join(modules, dep);
    mkdirSync(resolve(at, '..'), { recursive: true });
    symlinkSync(join(repo, 'node_modules', dep), at, 'dir');
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
}, 120_000);

const node = (args: string[], timeout = 180_000) => spawnSync(process.execPath, args, { cwd: project, encoding: 'utf8', timeout });

describe('the package as a user installs it', () => {
  it('ships no test code, no source maps without sources, and a LICENSE', () => {
    expect(packed).toContain('LICENSE');
    expect(packed).toContain('dist/index.js');
    expect(packed.filter((p) => /(^|\/)testing\/|UnderTest|\.spec\.|\.map$/.test(p))).toEqual([]);
  });

  for (const example of readdirSync(join(repo, 'examples')).filter((e) => existsSync(join(repo, 'examples', e, 'run.mjs')))) {
    it(`runs a copy of examples/${example}/run.mjs outside the repository`, () => {
      cpSync(join(repo, 'examples', example, 'run.mjs'), join(project, `${example}.mjs`));
      const r = node([`${example}.mjs`, join(work, `store-${example}`)]);
      expect(r.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Error:/);
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    }, 200_000);
  }

  it('compiles a strict TypeScript program against the public exports and runs it', () => {
    writeFileSync(join(project, 'app.ts'), CONSUMER);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', outDir: 'out', skipLibCheck: false, types: ['node'] },
      files: ['app.ts'],
    }));
    const tsc = spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    const r = node(['out/app.js', join(work, 'store-app')], 60_000);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      counters: { n: 3 },
      streamed: 2,
      joined: [{ id: 'd-1', state: 'done', 'audit.by': 'ana' }],
      view: 'register',
      served: { n: 3 },
      refused: 'FramelogError',
    });
  }, 120_000);
});

/** A user's program: store, streams, queries, views and the server, from `framelog` only. */
const CONSUMER = `
import { appendStream, builtinViews, FramelogError, openStore, query, readStream, serve, updateView, type Delta, type State } from 'framelog';

const dir = process.argv[2]!;
const store = await openStore(dir, { create: true });
const delta = (frame: number, writer: string, n: number): Delta => ({ frame, writer, utc: new Date(Date.UTC(2026, 0, 1, 0, 0, frame)).toISOString(), counters: { n } });
await store.put([delta(1, 'w1', 1), delta(1, 'w2', 1)]);
await store.merge();
await store.put([delta(2, 'w1', 1)]);
await store.merge();
const state: State = await store.stateAt();

await appendStream(dir, 'receipts', [{ type: 'transition', id: 'd-1', state: 'done' }, { type: 'transition', id: 'd-2', state: 'running' }]);
await appendStream(dir, 'audit', [{ id: 'd-1', by: 'ana' }]);
let streamed = 0;
for await (const _ of readStream(dir, 'receipts')) streamed++;
const joined = [];
for await (const row of query(dir, { from: 'receipts', joins: [{ stream: 'audit', baseKey: ['id'], joinKey: ['id'] }], select: ['id', 'state', 'audit.by'] })) joined.push(row);

const view = builtinViews.get('register')!;
await updateView(dir, view);

const s = await serve({ dir, port: 0 });
const served = await (await fetch(s.url + '/api/state')).json() as State;
await s.close();

let refused = '';
try {
  await store.put([{ frame: -1, writer: 'w1', utc: 'yesterday' } as unknown as Delta]);
} catch (e) {
  refused = e instanceof FramelogError ? 'FramelogError' : String(e);
}
console.log(JSON.stringify({ counters: state.counters, streamed, joined, view: view.name, served: served.counters, refused }));
`;
