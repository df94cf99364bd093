import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// The package says which Node it runs on (engines.node); every package it installs must run there
// too, or npm ci warns (EBADENGINE) and a user on the oldest supported Node gets code that may not run.
const root = fileURLToPath(new URL('..', import.meta.url));
const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string }; dependencies: Record<string, string> };

function* installed(dir: string): Generator<{ name: string; dir: string }> {
  if (!existsSync(dir)) return;
  for (const n of readdirSync(dir)) {
    if (n.startsWith('.')) continue;
    const p = join(dir, n);
    if (n.startsWith('@')) {
      for (const m of readdirSync(p)) yield* withNested(`${n}/${m}`, join(p, m));
    } else yield* withNested(n, p);
  }
}
function* withNested(name: string, dir: string): Generator<{ name: string; dir: string }> {
  if (existsSync(join(dir, 'package.json'))) yield { name, dir };
  yield* installed(join(dir, 'node_modules'));
}

describe('engines', () => {
  it('every installed package runs on the oldest Node the package supports', () => {
    const oldest = semver.minVersion(own.engines.node)!.version;
    const refused: string[] = [];
    for (const p of installed(join(root, 'node_modules'))) {
      const engines = (JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) as { engines?: { node?: unknown } }).engines;
      const range = typeof engines?.node === 'string' ? engines.node : undefined;
      if (range && semver.validRange(range) && !semver.satisfies(oldest, range)) refused.push(`${p.name} wants node ${range}`);
    }
    expect(refused).toEqual([]);
    expect(oldest.startsWith('20.')).toBe(true);
  });
});
