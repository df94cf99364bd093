import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (this file is src/stream/testing/ in the source, dist/stream/testing/ when built). */
export const repoRoot = path.resolve(here, '../../..');

/**
 * Compiles the stream code and its test children to JavaScript once per content hash, under
 * `node_modules/.cache/framelog-stream/`, so tests can run real child processes (and kill them)
 * without depending on a full `npm run build` of the rest of the project. Returns the output
 * root: `<root>/stream/testing/appendChild.js`, `<root>/stream/testing/streamProgram.js`.
 */
export function compiledForTests(): string {
  const sources = [
    ...listTs(path.join(repoRoot, 'src/stream')),
    path.join(repoRoot, 'src/cli/streamCommands.ts'),
  ].sort();
  const hash = createHash('sha256');
  for (const f of sources) hash.update(f).update(fs.readFileSync(f));
  const out = path.join(repoRoot, 'node_modules/.cache/framelog-stream', hash.digest('hex').slice(0, 16));
  if (fs.existsSync(path.join(out, '.done'))) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const entries = sources.filter((f) => f.includes(`${path.sep}testing${path.sep}`) && !f.endsWith('compiledForTests.ts'));
  execFileSync(
    process.execPath,
    [
      path.join(repoRoot, 'node_modules/typescript/bin/tsc'),
      '--outDir', tmp, '--rootDir', path.join(repoRoot, 'src'),
      '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--strict', '--types', 'node', '--skipLibCheck', '--sourceMap', 'false',
      ...entries,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  fs.writeFileSync(path.join(tmp, '.done'), '');
  try {
    fs.renameSync(tmp, out);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another test file compiled it first
  }
  return out;
}

function listTs(dir: string): string[] {
  const found: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) found.push(...listTs(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) found.push(p);
  }
  return found;
}
