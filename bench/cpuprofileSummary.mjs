#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): time inside one function (default runMerges),
// inclusive per callee and self per leaf, divided by N (e.g. the number of merges).
//   node bench/cpuprofileSummary.mjs DIR_OR_FILE [ROOT_FUNCTION] [N]
import fs from 'node:fs';
import path from 'node:path';

const [target, rootName = 'runMerges', n = '1'] = process.argv.slice(2);
const file = fs.statSync(target).isDirectory() ? path.join(target, fs.readdirSync(target).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1)) : target;
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const parent = new Map();
for (const x of prof.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const perNode = new Map();
prof.samples.forEach((s, i) => perNode.set(s, (perNode.get(s) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const incl = new Map();
const self = new Map();
let total = 0;
for (const [id, us] of perNode) {
  const stack = [];
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur).callFrame);
  const r = stack.findIndex((c) => c.functionName === rootName);
  if (r < 0) continue;
  total += us;
  const seen = new Set();
  for (const c of stack.slice(0, r + 1)) {
    const k = c.functionName || '(anonymous)';
    if (!seen.has(k)) seen.add(k), incl.set(k, (incl.get(k) ?? 0) + us);
  }
  const leaf = `${stack[0].functionName || '(anonymous)'} ${stack[0].url.split('/').slice(-2).join('/')}`;
  self.set(leaf, (self.get(leaf) ?? 0) + us);
}
const N = Number(n);
const show = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).forEach(([name, us]) => console.log(`  ${name.padEnd(48)} ${(us / 1000 / N).toFixed(3).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(6)}%`));
console.log(`${rootName}: ${(total / 1000).toFixed(1)} ms in all, ${(total / 1000 / N).toFixed(3)} ms per unit (N=${N})`);
console.log('inclusive:');
show(incl, 30);
console.log('self:');
show(self, 12);
