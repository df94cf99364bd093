#!/usr/bin/env node
// npm run bench [-- NAME...] [-- --quick]: runs the benchmarks in sequence, each bench/NAME.mjs
// in its own process (results in bench/results/NAME.json). Builds dist/ when it is missing and
// installs the peers of bench/package.json on first use (better-sqlite3 compiles: ~2 minutes).
// Arguments that name a bench pick which ones run; any other argument is passed to each bench.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHES = ['merge', 'scale', 'streams', 'engine', 'server', 'transports'];

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const args = process.argv.slice(2);
const picked = args.filter((a) => BENCHES.includes(a));
const pass = args.filter((a) => !BENCHES.includes(a));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, argv, cwd = root) {
  const r = spawnSync(cmd, argv, { cwd, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: ${cmd} ${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}

if (!fs.existsSync(path.join(root, 'dist/index.js'))) {
  console.error('bench: building dist/ (npm run build)');
  run(npm, ['run', 'build']);
}
const deps = Object.keys(JSON.parse(fs.readFileSync(path.join(benchDir, 'package.json'), 'utf8')).dependencies ?? {});
const missing = deps.filter((d) => !fs.existsSync(path.join(benchDir, 'node_modules', d, 'package.json')));
if (missing.length > 0) {
  const ci = fs.existsSync(path.join(benchDir, 'package-lock.json'));
  console.error(`bench: installing the peers (${missing.join(', ')}) with npm --prefix bench ${ci ? 'ci' : 'install'}; better-sqlite3 compiles from source (~2 minutes)`);
  run(npm, ['--prefix', benchDir, ci ? 'ci' : 'install', '--no-audit', '--no-fund']);
}

let failed = 0;
for (const name of picked.length ? picked : BENCHES) {
  const file = path.join(benchDir, `${name}.mjs`);
  if (!fs.existsSync(file)) {
    console.error(`bench: ${name}: no bench/${name}.mjs, skipped`);
    continue;
  }
  console.error(`\nbench: ${name} (node bench/${name}.mjs${pass.length ? ' ' + pass.join(' ') : ''})`);
  const r = spawnSync(process.execPath, [file, ...pass], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: ${name} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
