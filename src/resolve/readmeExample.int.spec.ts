// The README's "Policies and resolution" example, pasted as a user would: it must keep working and
// keep printing what the README says it prints.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const hasJq = spawnSync('jq', ['--version']).status === 0;
if (!hasJq && process.env.CI === 'true') throw new Error('jq is missing: the README examples need it (apt-get install jq)');
if (!hasJq) console.log('skipping the README policy example: jq is not installed (apt-get install jq)');
const root = mkdtempSync(join(tmpdir(), 'framelog-readme-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!hasJq)('README: Policies and resolution', () => {
  it('runs as pasted, and prints what its comments say', () => {
    const text = readFileSync(README, 'utf8');
    const at = text.indexOf('## Policies and resolution');
    const start = text.indexOf('```sh\n', at) + 6;
    const script = text.slice(start, text.indexOf('```\n', start));
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'framelog'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(bin, 'framelog'), 0o755);
    const out = execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' } });
    // Every "# {json}" comment line of the script is a line the command above it prints.
    for (const shown of script.split('\n').filter((l) => /^# \{/.test(l)).map((l) => l.slice(2))) expect(out).toContain(shown);
    for (const shown of script.split('\n').filter((l) => /^#\s+~ merge/.test(l)).map((l) => l.replace(/^#\s+/, ''))) expect(out).toContain(shown);
    expect(out).toContain('merged frame 2: 1 applied, resolved m1.1');
    const state = out.split('\n').filter((l) => l.startsWith('{"counters"'));
    expect(JSON.parse(state[0]).entities.tasks.t1.owner).toBe('agent-3');
    expect(JSON.parse(state[1]).entities.tasks.t1.owner).toBe('agent-1');
  });
});
