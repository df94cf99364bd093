#!/usr/bin/env node
// framelog conformance runner: drives a framelog command line through the cases in
// conformance/cases/ and compares what it stores and prints with what docs/protocol.md says.
//
//   node conformance/run.mjs --cli "node dist/cli/main.js" [options] [CASE ...]
//
//   --cli CMD        the command to test (default: $FRAMELOG_CLI, else "framelog"); run through
//                    /bin/sh, so it may be a wrapper, set variables or quote
//   --protocol V     only the cases of protocol version V or older (1.0 or 1.1; default: all)
//   --keep           keep each case's store (its path is printed) instead of deleting it
//   --list           print the cases and what each covers, run nothing
//   CASE             a case folder name (or a prefix of one, like 07), or a path to a case folder
//
// Node 20 or later, no dependencies. The case format is described in conformance/README.md.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const CASES = join(HERE, 'cases');
const CALL_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const opts = { cli: process.env.FRAMELOG_CLI || 'framelog', protocol: undefined, keep: false, list: false, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (name) => {
      if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
      if (i + 1 >= argv.length) usage(`${name} needs a value`);
      return argv[++i];
    };
    if (a === '--cli' || a.startsWith('--cli=')) opts.cli = value('--cli');
    else if (a === '--protocol' || a.startsWith('--protocol=')) opts.protocol = value('--protocol');
    else if (a === '--keep') opts.keep = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else opts.only.push(a);
  }
  if (opts.protocol !== undefined && !['1.0', '1.1'].includes(opts.protocol)) usage('--protocol takes 1.0 or 1.1');
  return opts;
}

function usage(problem) {
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 14).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
  if (problem) console.error(`run.mjs: ${problem}\n`);
  console.error(text);
  process.exit(problem ? 2 : 0);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Canonical JSON (docs/protocol.md §3.2): keys sorted by UTF-16 code unit, no white space. */
function canonical(v) {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const idText = (r) => `${r.frame}/${r.writer}/${r.seq ?? 0}`;
const sortedCanon = (list) => list.map(canonical).sort();
const short = (s, n = 400) => (s.length > n ? s.slice(0, n) + '…' : s);

/** Parses NDJSON output: one JSON object per non-empty line. */
function ndjson(text, what) {
  return text.split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l);
    } catch {
      throw new CaseError(`${what}: line ${i + 1} of the output is not JSON: ${short(l, 120)}`);
    }
  });
}

/** A problem that ends the case early (a command failed where it had to work, a malformed case…). */
class CaseError extends Error {}

/** `*` in the last path segment matches any run of characters. */
function expandGlob(root, rel) {
  const dir = join(root, dirname(rel));
  const pattern = basename(rel);
  if (!pattern.includes('*')) return existsSync(join(root, rel)) ? [join(root, rel)] : [];
  if (!existsSync(dir)) return [];
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return readdirSync(dir).filter((n) => re.test(n)).map((n) => join(dir, n)).filter((p) => statSync(p).isFile()).sort();
}

// ---------------------------------------------------------------------------------------------
// The command line under test

function makeCli(cli) {
  return function call(args, { input, expect = 'ok' } = {}) {
    // The command string goes to the shell; our arguments follow as "$@", never re-split.
    const r = spawnSync('/bin/sh', ['-c', `${cli} "$@"`, 'framelog', ...args], {
      input, encoding: 'utf8', maxBuffer: 1 << 28, timeout: CALL_TIMEOUT_MS,
    });
    if (r.error) throw new CaseError(`framelog ${args.join(' ')}: ${r.error.message}`);
    const reason = (r.stderr || r.stdout || '').trim().split('\n').pop() ?? '';
    if (expect === 'ok' && r.status !== 0) throw new CaseError(`framelog ${args.join(' ')} exited ${r.status}: ${reason}`);
    if (expect === 'fail') {
      if (r.status === 0) throw new CaseError(`framelog ${args.join(' ')} exited 0; the protocol says it must be refused`);
      if (reason === '') throw new CaseError(`framelog ${args.join(' ')} was refused (exit ${r.status}) without a reason on stderr`);
    }
    return r;
  };
}

// ---------------------------------------------------------------------------------------------
// One case

function loadCase(dir) {
  const file = join(dir, 'case.json');
  let spec;
  try {
    spec = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${e.message}`);
  }
  if (!Array.isArray(spec.steps) || typeof spec.expect !== 'object') throw new Error(`${file}: needs "steps" (array) and "expect" (object)`);
  return spec;
}

/** Runs one case; returns the list of problems found (empty: it passed). */
function runCase(dir, spec, call, keep) {
  const tmp = mkdtempSync(join(tmpdir(), 'framelog-conformance-'));
  const store = join(tmp, 'store');
  const problems = [];
  const at = (...p) => join(store, ...p);
  const states = new Map(); // frame → stdout of `state --at frame`, fetched once per check
  try {
    call(['init', '--dir', store]);
    if (spec.plan !== undefined) writeFileSync(at('framelog.json'), JSON.stringify(spec.plan, null, 2) + '\n');
    const steps = spec.steps;
    const explicitCheck = steps.some((s) => 'check' in s);
    for (const [n, step] of steps.entries()) {
      const where = `step ${n + 1}`;
      const expect = step.exit ?? 'ok';
      if ('drop' in step) {
        // A writer's drop: each file copied into the inbox byte for byte, never over another one.
        const from = join(dir, step.drop);
        for (const name of readdirSync(from).sort()) {
          if (!statSync(join(from, name)).isFile()) continue;
          copyFileSync(join(from, name), at('inbox', name), constants.COPYFILE_EXCL);
        }
      } else if ('merge' in step) {
        call(['merge', ...step.merge, '--dir', store], { expect });
        states.clear();
      } else if ('put' in step) {
        call(['put', ...step.put.map((f) => join(dir, f)), '--dir', store], { expect });
      } else if ('resolve' in step) {
        call(['resolve', ...step.resolve, '--dir', store], { expect });
      } else if ('putStdin' in step) {
        call(['put', '-', '--dir', store], { input: readFileSync(join(dir, step.putStdin)), expect });
      } else if ('edit' in step) {
        const { file, find, replace } = step.edit;
        const hits = expandGlob(store, file).filter((p) => readFileSync(p, 'utf8').includes(find));
        if (hits.length === 0) throw new CaseError(`${where}: no file matching ${file} holds ${JSON.stringify(find)} (the store layout differs from docs/protocol.md §7?)`);
        for (const p of hits) writeFileSync(p, readFileSync(p, 'utf8').replace(find, replace));
        states.clear();
      } else if ('remove' in step) {
        for (const p of expandGlob(store, step.remove)) unlinkSync(p);
        states.clear();
      } else if ('verify' in step) {
        const r = call(['verify', '--dir', store], { expect: 'any' });
        const ok = r.status === 0;
        if (ok !== (step.verify === 'ok')) problems.push(`${where}: verify exited ${r.status}, want ${step.verify === 'ok' ? '0' : 'non-zero'}${ok ? '' : `: ${short((r.stderr || r.stdout).trim())}`}`);
      } else if ('check' in step) {
        checkExpectations(spec.expect, store, call, states, problems);
      } else {
        throw new CaseError(`${where}: unknown step ${JSON.stringify(step)}`);
      }
    }
    if (!explicitCheck) checkExpectations(spec.expect, store, call, states, problems);
    const last = steps.at(-1);
    if (!(last && 'verify' in last)) {
      const r = call(['verify', '--dir', store], { expect: 'any' });
      if (r.status !== 0) problems.push(`verify exited ${r.status}: ${short((r.stderr || r.stdout).trim())}`);
    }
  } catch (e) {
    if (!(e instanceof CaseError)) throw e;
    problems.push(e.message);
  } finally {
    if (keep) problems.length ? problems.push(`store kept at ${store}`) : console.log(`     store kept at ${store}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Expectations

const MERGE_RECORD_KEYS = ['frame', 'utc', 'applied', 'late', 'fallback', 'missing', 'duplicates', 'skewed', 'quarantined', 'conflicts', 'prev'];
const ID_LISTS = ['applied', 'late', 'duplicates', 'skewed'];

/** A merge record as cases spell it: identities as "frame/writer/seq", quarantined as sorted file names. */
function recordView(r) {
  const v = { ...r };
  for (const k of ID_LISTS) if (Array.isArray(r[k])) v[k] = r[k].map(idText);
  v.resolved = (r.resolved ?? []).map((x) => `${x.conflict} by ${idText(x)}`); // 1.1: "m1.0 by 2/human.ana/0"
  if (Array.isArray(r.quarantined)) v.quarantined = r.quarantined.map((q) => q.file).sort();
  return v;
}

/** A conflict record as cases spell it: the place, and the values of winner and losers. */
function conflictView(c, v11) {
  // 1.1 cases also compare each record's id and a field record's policy.
  const ext = v11 ? { conflict: c.conflict, ...(c.kind === 'field' ? { policy: c.policy } : {}) } : {};
  if (c.kind === 'field') {
    return { merge: c.merge, kind: c.kind, ...ext, type: c.type, id: String(c.id), field: c.field, ...('base' in c ? { base: c.base } : {}),
      winner: c.winner?.value, losers: (c.losers ?? []).map((l) => l.value) };
  }
  if (c.kind === 'item') return { merge: c.merge, kind: c.kind, ...ext, collection: c.collection, key: c.key, winner: c.winner?.value, losers: (c.losers ?? []).map((l) => l.value) };
  return { merge: c.merge, kind: c.kind, ...ext, frame: c.frame, writer: c.writer, seq: c.seq ?? 0 };
}

const eventView = (e) => ({ merge: e.merge, frame: e.frame, writer: e.writer, seq: e.seq ?? 0, event: e.event });

function stateAt(call, store, states, frame) {
  const key = frame === undefined ? 'latest' : String(frame);
  if (!states.has(key)) {
    const out = call(['state', ...(frame === undefined ? [] : ['--at', String(frame)]), '--dir', store]).stdout;
    if (!out.endsWith('\n') || out.slice(0, -1).includes('\n')) throw new CaseError(`state${frame === undefined ? '' : ` --at ${frame}`}: want one line of canonical JSON and a newline, got ${short(JSON.stringify(out), 200)}`);
    states.set(key, out.slice(0, -1));
  }
  return states.get(key);
}

function checkExpectations(expect, store, call, states, problems) {
  const at = (...p) => join(store, ...p);
  // 1. State at each frame named: exactly the canonical bytes.
  for (const [frame, want] of Object.entries(expect.state ?? {})) {
    const got = stateAt(call, store, states, Number(frame));
    if (got !== canonical(want)) problems.push(`state --at ${frame}:\n      want ${short(canonical(want))}\n      got  ${short(got)}`);
  }

  // 2. Merge records: the keys each expected record names.
  const records = ndjson(call(['log', '--dir', store]).stdout, 'log');
  const wantM = expect.merges ?? [];
  if (records.length !== wantM.length) {
    problems.push(`merge records: want ${wantM.length} (frames ${wantM.map((m) => m.frame).join(', ')}), got ${records.length} (frames ${records.map((m) => m.frame).join(', ')})`);
  } else {
    records.forEach((r, i) => {
      const got = recordView(r);
      const want = wantM[i];
      for (const k of Object.keys(want)) {
        const g = got[k];
        const w = k === 'quarantined' ? [...want[k]].sort() : want[k];
        if (canonical(g) !== canonical(w)) problems.push(`merge record ${i + 1} (frame ${r.frame}) ${k}:\n      want ${short(canonical(w))}\n      got  ${short(canonical(g))}`);
      }
    });
  }

  // 3. Conflict records (order-insensitive: v1.0 fixes no order).
  const conflicts = ndjson(call(['conflicts', '--dir', store]).stdout, 'conflicts');
  const wantC = sortedCanon(expect.conflicts ?? []);
  const v11 = (expect.conflicts ?? []).some((c) => 'conflict' in c);
  const gotC = sortedCanon(conflicts.map((c) => conflictView(c, v11)));
  if (canonical(wantC) !== canonical(gotC)) problems.push(`conflict records:\n      want ${wantC.join('\n           ') || '(none)'}\n      got  ${gotC.join('\n           ') || '(none)'}`);

  // 3b. 1.1: the ids of the conflicts still open (PROTOCOL §2a), as a set.
  if (expect.open !== undefined) {
    const open = ndjson(call(['conflicts', '--open', '--dir', store]).stdout, 'conflicts --open').map((c) => c.conflict).sort();
    if (canonical(open) !== canonical([...expect.open].sort())) problems.push(`open conflicts: want ${canonical([...expect.open].sort())}, got ${canonical(open)}`);
  }

  // 4. Events, in journal order.
  const events = ndjson(call(['events', '--dir', store]).stdout, 'events').map(eventView);
  if (canonical(events) !== canonical(expect.events ?? [])) problems.push(`events:\n      want ${short(canonical(expect.events ?? []))}\n      got  ${short(canonical(events))}`);

  // 5. What is left in the inbox, and what was set aside.
  const files = (d) => (existsSync(at(d)) ? readdirSync(at(d)).filter((n) => statSync(at(d, n)).isFile()).sort() : []);
  const inbox = files('inbox');
  if (canonical(inbox) !== canonical([...(expect.inbox ?? [])].sort())) problems.push(`inbox: want ${canonical([...(expect.inbox ?? [])].sort())}, got ${canonical(inbox)}`);
  const quarantined = files('quarantine').filter((n) => !n.endsWith('.why.json'));
  if (canonical(quarantined) !== canonical([...(expect.quarantine ?? [])].sort())) problems.push(`quarantine/: want ${canonical([...(expect.quarantine ?? [])].sort())}, got ${canonical(quarantined)}`);

  // 6. What holds for every store, whatever the case (docs/protocol.md §5.6, §6.3, §6.4, §7.2).
  checkInvariants({ store, call, states, records, conflicts, quarantined, problems });
}

function checkInvariants({ store, call, states, records, conflicts, quarantined, problems }) {
  const at = (...p) => join(store, ...p);
  // Each set-aside file has its note.
  for (const q of quarantined) {
    let why;
    try {
      why = JSON.parse(readFileSync(at('quarantine', `${q}.why.json`), 'utf8'));
    } catch (e) {
      problems.push(`quarantine/${q}: no readable ${q}.why.json beside it (${e.code ?? e.message})`);
      continue;
    }
    if (typeof why.why !== 'string' || why.why === '') problems.push(`quarantine/${q}.why.json: no reason ("why")`);
  }
  // Merge records: every key present, frames ascending, late ⊆ applied, conflict counts.
  let lastFrame = -1;
  for (const r of records) {
    const missing = MERGE_RECORD_KEYS.filter((k) => !(k in r));
    if (missing.length) problems.push(`merge record of frame ${r.frame} lacks ${missing.join(', ')}`);
    if (!(r.frame > lastFrame)) problems.push(`merge record of frame ${r.frame} does not follow frame ${lastFrame}`);
    lastFrame = r.frame;
    const applied = new Set((r.applied ?? []).map((x) => `${idText(x)}/${x.sha256}`));
    for (const l of r.late ?? []) if (!applied.has(`${idText(l)}/${l.sha256}`)) problems.push(`merge record of frame ${r.frame}: late ${idText(l)} is not in applied`);
    const n = conflicts.filter((c) => c.merge === r.frame).length;
    if (r.conflicts !== n) problems.push(`merge record of frame ${r.frame} counts ${r.conflicts} conflicts; the conflict journal holds ${n} for it`);
  }
  // The hash chain, on the journal's own bytes.
  const journal = at('journal', 'merges.ndjson');
  const lines = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').slice(0, -1) : [];
  if (lines.length !== records.length) problems.push(`journal/merges.ndjson holds ${lines.length} lines, framelog log printed ${records.length} records`);
  let prev = null;
  lines.forEach((line, i) => {
    let rec;
    try {
      rec = JSON.parse(line);
    } catch {
      problems.push(`journal/merges.ndjson:${i + 1}: not JSON`);
      return;
    }
    if (rec.prev !== prev) problems.push(`journal/merges.ndjson:${i + 1}: prev is ${rec.prev}, want ${prev ?? 'null'} (SHA-256 of the line before)`);
    prev = sha256(line);
  });
  // state_sha256, where a record carries it, is the hash of what `state --at` prints.
  for (const r of records) {
    if (r.state_sha256 === undefined) continue;
    const got = sha256(stateAt(call, store, states, r.frame));
    if (got !== r.state_sha256) problems.push(`merge record of frame ${r.frame}: state_sha256 ${r.state_sha256.slice(0, 12)}… is not the SHA-256 of state --at ${r.frame} (${got.slice(0, 12)}…)`);
  }
  // A snapshot exists only after a checkpoint record.
  const snapDir = at('snapshots');
  for (const n of existsSync(snapDir) ? readdirSync(snapDir) : []) {
    const m = /^frame-(\d+)\.json$/.exec(n);
    if (!m) continue;
    const r = records.find((x) => x.frame === Number(m[1]));
    if (!r) problems.push(`snapshots/${n}: no merge record of frame ${Number(m[1])}`);
    else if (r.state_sha256 === undefined) problems.push(`snapshots/${n}: its merge record carries no state_sha256 (a checkpoint must)`);
  }
  // The latest state is the state at the last closed frame (or the empty state).
  const latest = stateAt(call, store, states, undefined);
  const want = records.length ? stateAt(call, store, states, records.at(-1).frame) : canonical({ counters: {}, entities: {}, items: {} });
  if (latest !== want) problems.push(`state (latest) differs from the state at the last closed frame:\n      latest ${short(latest)}\n      last   ${short(want)}`);
}

// ---------------------------------------------------------------------------------------------
// Main

const opts = parseArgs(process.argv.slice(2));
const all = readdirSync(CASES).filter((n) => existsSync(join(CASES, n, 'case.json'))).sort();
let dirs;
if (opts.only.length === 0) dirs = all.map((n) => join(CASES, n));
else {
  dirs = opts.only.map((a) => {
    if (existsSync(join(a, 'case.json'))) return resolve(a);
    const hits = all.filter((n) => n === a || n.startsWith(a));
    if (hits.length !== 1) usage(`${a}: ${hits.length ? 'names several cases' : 'no such case'}`);
    return join(CASES, hits[0]);
  });
}
const selected = dirs.map((d) => ({ dir: d, name: basename(d), spec: loadCase(d) }))
  .filter((c) => opts.protocol === undefined || (c.spec.since ?? '1.0') <= opts.protocol);
if (selected.length === 0) usage('no case to run');

if (opts.list) {
  for (const c of selected) console.log(`${c.name.padEnd(34)} v${c.spec.since ?? '1.0'}  ${c.spec.spec ?? ''}  ${c.spec.title ?? ''}`);
  process.exit(0);
}

const call = makeCli(opts.cli);
console.log(`framelog conformance: ${selected.length} cases against: ${opts.cli}`);
let failed = 0;
const started = Date.now();
for (const c of selected) {
  const t0 = Date.now();
  const problems = runCase(c.dir, c.spec, call, opts.keep);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (problems.length === 0) console.log(`pass ${c.name} (${secs} s)`);
  else {
    failed++;
    console.log(`FAIL ${c.name} (${secs} s): ${c.spec.title ?? ''}\n   - ${problems.join('\n   - ')}`);
  }
}
console.log(`${selected.length - failed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(0)} s)`);
process.exit(failed ? 1 : 0);
