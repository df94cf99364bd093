#!/usr/bin/env node
// Where does a durable merge spend its time? Runs the durable-merge loop of bench/merge.mjs
// (per frame: put W deltas, then merger.merge({through: f})) on a fresh store, for profiling:
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/profileMerge.mjs 8 250 1   # W frames snapshotEvery
//   node bench/cpuprofileSummary.mjs /tmp/prof runMerges 250                    # inclusive ms per merge
//   strace -f -T -o /tmp/trace node bench/profileMerge.mjs 8 100 1 && node bench/profileMerge.mjs --syscalls /tmp/trace
//
// Around each merge it stats two marker paths (/tmp/__merge_begin, /tmp/__merge_end), so that
// --syscalls can count the system calls made inside merges only (and their time, with strace -T).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeFrames } from './workload.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === '--syscalls') {
  const count = new Map();
  const time = new Map();
  let inMerge = false;
  let merges = 0;
  for (const line of fs.readFileSync(process.argv[3], 'utf8').split('\n')) {
    if (line.includes('__merge_begin')) (inMerge = true), merges++;
    else if (line.includes('__merge_end')) inMerge = false;
    else if (inMerge) {
      const m = /^\d+\s+(\w+)\(.*?(?:<([\d.]+)>)?\s*$/.exec(line);
      if (!m) continue;
      count.set(m[1], (count.get(m[1]) ?? 0) + 1);
      time.set(m[1], (time.get(m[1]) ?? 0) + Number(m[2] ?? 0));
    }
  }
  console.log(`${merges} merges; per merge:`);
  for (const [k, n] of [...count].sort((a, b) => time.get(b[0]) - time.get(a[0]) || b[1] - a[1]))
    console.log(`  ${k.padEnd(14)} ${(n / merges).toFixed(2).padStart(8)} calls ${((time.get(k) * 1000) / merges).toFixed(3).padStart(9)} ms`);
  process.exit(0);
}

const [W = 8, F = 250, K = 1] = process.argv.slice(2).map(Number);
const { initStore, putDeltas, openMergerOn } = await import(pathToFileURL(path.join(benchDir, '../dist/internals.js')).href);
const dir = path.join(benchDir, '.tmp', 'profile-merge');
fs.rmSync(dir, { recursive: true, force: true });
const ctx = initStore(dir, K ? { snapshotEvery: K } : {}); // K = 0: the default plan (checkpoints by bytes)
const frames = makeFrames({ frames: F, writers: W });
const merger = openMergerOn(ctx);
let ns = 0n;
for (const [i, frame] of frames.entries()) {
  putDeltas(ctx, frame.map((d) => ({ bytes: Buffer.from(d.text), source: d.obj.writer })));
  fs.existsSync('/tmp/__merge_begin');
  const t0 = process.hrtime.bigint();
  merger.merge({ through: i + 1 });
  ns += process.hrtime.bigint() - t0;
  fs.existsSync('/tmp/__merge_end');
}
merger.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(`W=${W} frames=${F} snapshotEvery=${K}: ${(Number(ns) / 1e6 / F).toFixed(3)} ms per merge, ${(Number(ns) / 1e3 / (F * W)).toFixed(1)} µs per delta`);
