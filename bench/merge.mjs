#!/usr/bin/env node
// The merge benchmarks: framelog's durable merge, in-memory apply, put and stateAt, side by side
// with SQLite (better-sqlite3), Automerge and the naive read-modify-write of one state.json, all
// in one run on the same workload (bench/workload.mjs). Writes bench/results/merge.json and prints
// a table.
//
//   npm run build && npm --prefix bench install     # or just: npm run bench (bench/run.mjs does both)
//   node bench/merge.mjs [--quick] [--only=apply,durable,backlog,automerge,put,putbatch,rmw,stateat]
//                        [--rounds=N] [--rebuild-cache]
//
// --quick: small sizes, one round, stateAt on throw-away 1k/5k-frame stores (a smoke test; its
// figures are not the ones to quote). The 10k/100k-frame stateAt stores are built once under
// bench/.cache/ and reused (a 100k-frame build fsyncs every frame: minutes).
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENTITIES, OPS_PER_DELTA, makeFrames, median, percentile, prng, writerName } from './workload.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const dist = path.join(root, 'dist/index.js');
const work = path.join(benchDir, '.tmp', 'merge');
const cacheDir = path.join(benchDir, '.cache', 'stateAt-v2');
const resultsFile = path.join(benchDir, 'results', 'merge.json');

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
const only = opt('only')?.split(',').map((s) => s.toLowerCase());
const wants = (section) => !only || only.includes(section);

if (!fs.existsSync(dist)) {
  console.error('bench/merge: dist/index.js is missing: run npm run build first');
  process.exit(1);
}
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
// The library as built when the run starts, copied so that a rebuild of dist/ during the run
// cannot mix two builds (the put workers import the copy too).
const distCopy = path.join(work, 'dist');
fs.cpSync(path.dirname(dist), distCopy, { recursive: true });
const distEntry = path.join(distCopy, 'internals.js'); // store contexts, putDeltas, mergeFrame: the lower-level door
const lib = await import(pathToFileURL(distEntry).href);
const git = (...a) => {
  try {
    return execFileSync('git', a, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
};
const newestMtime = (dir) => {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) t = Math.max(t, fs.statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs);
  return t;
};
const { initStore, openStoreContext, putDeltas, openMergerOn, loadStateAt, readMergeRecords, mergeFrame, applyDelta, createMergeState, validateDelta, parseDelta, stateSha256, toState, DEFAULT_PLAN } = lib;
const optionalPeer = (name) => import(name).then((m) => m, () => undefined);
const Database = (await optionalPeer('better-sqlite3'))?.default;
const Automerge = await optionalPeer('@automerge/automerge');
const { Bench } = (await optionalPeer('tinybench')) ?? {};

// ---------------------------------------------------------------------------------------------
// Parameters

const P = {
  seed: 42,
  /** Rounds of the durable-merge and Automerge figures; the other sections run `roundsOther`. */
  rounds: Number(opt('rounds') ?? (quick ? 1 : 5)),
  roundsOther: Number(opt('rounds') ?? (quick ? 1 : 3)),
  writers: [1, 8, 64],
  /** Deltas per durable-merge run, the same for every W (so state and history sizes match). */
  durableDeltas: quick ? 256 : 2048,
  /** 0: the default plan (checkpoints when the bytes merged reach the state's size); K: at least every K merges too. */
  snapshotEvery: [0, 100],
  /** Deltas per run of the backlog variant (inbox pre-filled, then merge --through per frame). */
  backlogDeltas: quick ? 128 : 512,
  automergeDeltas: quick ? 64 : 512,
  apply: { writers: 8, frames: quick ? 32 : 256 },
  putProcesses: [1, 8, 32],
  /** Deltas per put run, split evenly over the processes. */
  putDeltas: quick ? 256 : 2048,
  rmwProcesses: [8, 32],
  /** Iterations per read-modify-write run, split evenly over the processes (as for put). */
  rmwDeltas: quick ? 256 : 2048,
  stateAt: { frames: quick ? [1000, 5000] : [10_000, 100_000], K: 100, samples: quick ? 10 : 50, chunk: 1000 },
};
P.backlogModes = ['through', 'all'];

const results = {
  bench: 'merge',
  date: new Date().toISOString(),
  node: process.version,
  framelog: JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version,
  code: { commit: git('rev-parse', '--short', 'HEAD'), srcFilesChangedSinceCommit: git('status', '--porcelain', '--', 'src')?.split('\n').filter(Boolean).length, distBuiltAt: new Date(newestMtime(path.dirname(dist))).toISOString() },
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), loadavgAtStart: os.loadavg().map((x) => +x.toFixed(2)) },
  command: `node bench/merge.mjs${argv.length ? ' ' + argv.join(' ') : ''}`,
  params: P,
  workload: `per frame one delta per writer; each delta: counters {a: 1, b: 1..9}, set {ent: {<one of ${ENTITIES} ids>: {f1, f2}}}, items {log: [{id: '<frame>-<writer>'}]} = ${OPS_PER_DELTA} ops; seeded PRNG (mulberry32, seed ${42}); every system gets the same JSON text`,
  notes: [],
};
const log = (...a) => console.error('  ·', ...a);
const now = () => process.hrtime.bigint();
const secondsSince = (t0) => Number(now() - t0) / 1e9;
const round = (x, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
const rate = (deltas, seconds) => ({ deltas, seconds: round(seconds, 4), deltasPerSec: round(deltas / seconds, 0), usPerDelta: round((seconds * 1e6) / deltas, 1) });
/** Median summary of several runs of `rate` figures. */
function summary(trials) {
  const s = {
    deltasPerSec: round(median(trials.map((t) => t.deltasPerSec)), 0), usPerDelta: round(median(trials.map((t) => t.usPerDelta)), 1),
    bestDeltasPerSec: round(Math.max(...trials.map((t) => t.deltasPerSec)), 0), bestUsPerDelta: round(Math.min(...trials.map((t) => t.usPerDelta)), 1),
  };
  for (const k of Object.keys(trials[0] ?? {})) if (!['deltas', 'seconds', 'deltasPerSec', 'usPerDelta'].includes(k) && typeof trials[0][k] === 'number') s[k] = round(median(trials.map((t) => t[k])), 2);
  return { ...s, deltas: trials[0]?.deltas, trials };
}
const freshDir = (name) => {
  const d = path.join(work, name);
  fs.rmSync(d, { recursive: true, force: true });
  return d;
};
const toInputs = (frame) => frame.map((d) => ({ bytes: Buffer.from(d.text), source: d.obj.writer }));
function check(cond, what) {
  if (!cond) throw new Error(`bench/merge: sanity check failed: ${what}`);
}

// ---------------------------------------------------------------------------------------------
// framelog: durable merge (inbox → merged: archive, journals, snapshot, fsync per frame)

/**
 * mode 'live': per frame, put its W deltas (not timed), then merger.merge({through: f}) (timed):
 *   the inbox holds one frame, as with a merger that keeps up.
 * mode 'through': put every frame first (not timed), then merger.merge({through: f}) per frame.
 * mode 'all': put every frame first, then one merger.merge() closing them all (one commit each).
 */
function framelogDurable({ W, D, snapshotEvery, mode }) {
  const frames = makeFrames({ frames: D / W, writers: W, seed: P.seed });
  const dir = freshDir(`durable-${mode}-w${W}-k${snapshotEvery}`);
  const ctx = initStore(dir, snapshotEvery ? { snapshotEvery } : {});
  const merger = openMergerOn(ctx);
  const inputs = frames.map(toInputs);
  let seconds = 0;
  try {
    if (mode === 'live') {
      for (let i = 0; i < frames.length; i++) {
        putDeltas(ctx, inputs[i]);
        const t0 = now();
        const recs = merger.merge({ through: i + 1 });
        seconds += secondsSince(t0);
        check(recs.length === 1 && recs[0].applied.length === W, `live merge of frame ${i + 1}`);
      }
    } else {
      for (const i of inputs) putDeltas(ctx, i);
      const t0 = now();
      if (mode === 'through') for (let f = 1; f <= frames.length; f++) merger.merge({ through: f });
      else check(merger.merge().length === frames.length, 'one merge per frame');
      seconds = secondsSince(t0);
    }
    const st = toState(merger.state);
    check(st.counters.a === D && st.items.log.length === D, `counters.a = ${st.counters.a}, ${st.items.log?.length} items, want ${D}`);
  } finally {
    merger.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { ...rate(D, seconds), frames: frames.length, msPerFrame: round((seconds * 1000) / frames.length, 3) };
}

// ---------------------------------------------------------------------------------------------
// SQLite peer: better-sqlite3, WAL, synchronous=FULL, one transaction per frame

function sqliteDurable({ W, D, audit }) {
  const frames = makeFrames({ frames: D / W, writers: W, seed: P.seed });
  const dir = freshDir(`sqlite-w${W}${audit ? '-audit' : ''}`);
  fs.mkdirSync(dir, { recursive: true });
  const db = new Database(path.join(dir, 'state.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE counters (name TEXT PRIMARY KEY, value REAL NOT NULL);
    CREATE TABLE fields (type TEXT, id TEXT, field TEXT, value TEXT, frame INTEGER, utc_ms INTEGER, writer TEXT, seq INTEGER,
                         PRIMARY KEY (type, id, field));
    CREATE TABLE items (collection TEXT, key TEXT, value TEXT, PRIMARY KEY (collection, key));
    CREATE TABLE deltas (frame INTEGER, writer TEXT, seq INTEGER, body TEXT, PRIMARY KEY (frame, writer, seq));`);
  const incr = db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value');
  // Last write wins by stamp (frame, utc instant, writer, seq).
  const setField = db.prepare(`INSERT INTO fields VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (type, id, field) DO UPDATE SET
      value = excluded.value, frame = excluded.frame, utc_ms = excluded.utc_ms, writer = excluded.writer, seq = excluded.seq
      WHERE (excluded.frame, excluded.utc_ms, excluded.writer, excluded.seq) > (fields.frame, fields.utc_ms, fields.writer, fields.seq)`);
  const addItem = db.prepare('INSERT OR IGNORE INTO items VALUES (?, ?, ?)');
  const keep = db.prepare('INSERT OR IGNORE INTO deltas VALUES (?, ?, ?, ?)');
  const applyFrame = db.transaction((texts) => {
    const ds = texts.map((text) => {
      const d = JSON.parse(text);
      d.utcMs = Date.parse(d.utc);
      d.seq ??= 0;
      d.text = text;
      return d;
    });
    ds.sort((x, y) => x.utcMs - y.utcMs || (x.writer < y.writer ? -1 : x.writer > y.writer ? 1 : 0) || x.seq - y.seq);
    for (const d of ds) {
      if (audit) keep.run(d.frame, d.writer, d.seq, d.text);
      for (const [k, v] of Object.entries(d.counters ?? {})) incr.run(k, v);
      for (const [type, byId] of Object.entries(d.set ?? {}))
        for (const [id, fields] of Object.entries(byId))
          for (const [field, value] of Object.entries(fields)) setField.run(type, id, field, JSON.stringify(value), d.frame, d.utcMs, d.writer, d.seq);
      for (const [c, list] of Object.entries(d.items ?? {})) for (const item of list) addItem.run(c, String(item.id), JSON.stringify(item));
    }
  });
  const texts = frames.map((f) => f.map((d) => d.text));
  const t0 = now();
  for (const t of texts) applyFrame(t);
  const seconds = secondsSince(t0);
  check(db.prepare("SELECT value FROM counters WHERE name = 'a'").get().value === D, 'sqlite counter a');
  check(db.prepare('SELECT count(*) AS n FROM items').get().n === D, 'sqlite items');
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { ...rate(D, seconds), frames: frames.length, msPerFrame: round((seconds * 1000) / frames.length, 3) };
}

// ---------------------------------------------------------------------------------------------
// Automerge peer: each writer's doc makes its change; the merger doc merges them, per frame

function automergeRun({ W, D }) {
  const A = Automerge;
  const frames = makeFrames({ frames: D / W, writers: W, seed: P.seed });
  const init = { counters: { a: new A.Counter(0), b: new A.Counter(0) }, ent: {}, log: [] };
  for (let i = 0; i < ENTITIES; i++) init.ent[`e${i}`] = {}; // made once, so writers never race to create them
  const base = A.from(init, { actor: 'ff'.repeat(16) });
  const docs = Array.from({ length: W }, (_, w) => A.clone(base, { actor: (w + 1).toString(16).padStart(32, '0') }));
  let merger = A.clone(base, { actor: 'ee'.repeat(16) });
  let change = 0;
  let merge = 0;
  for (const frame of frames) {
    const t0 = now();
    for (let w = 0; w < W; w++) {
      const d = JSON.parse(frame[w].text);
      docs[w] = A.change(docs[w], (doc) => {
        for (const [k, v] of Object.entries(d.counters)) doc.counters[k].increment(v);
        for (const [id, fields] of Object.entries(d.set.ent)) for (const [f, v] of Object.entries(fields)) doc.ent[id][f] = v;
        for (const item of d.items.log) doc.log.push(item);
      });
    }
    const t1 = now();
    for (let w = 0; w < W; w++) merger = A.merge(merger, docs[w]);
    change += Number(t1 - t0) / 1e9;
    merge += secondsSince(t1);
  }
  check(merger.counters.a.value === D && merger.log.length === D, 'automerge counter/items');
  return { ...rate(D, merge), frames: frames.length, changeUsPerDelta: round((change * 1e6) / D, 1) };
}

// ---------------------------------------------------------------------------------------------
// Child processes: put writers and read-modify-write writers

async function runChildren(script, argsList) {
  const children = argsList.map((a) => fork(path.join(benchDir, script), [JSON.stringify(a)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const msg = (c, key) =>
    new Promise((resolve, reject) => {
      const onMsg = (m) => {
        if (m?.[key]) {
          c.off('message', onMsg);
          resolve(m);
        }
      };
      c.on('message', onMsg);
      c.once('exit', (code) => (code ? reject(new Error(`${script} exited ${code}`)) : undefined));
    });
  await Promise.all(children.map((c) => msg(c, 'ready')));
  const done = children.map((c) => msg(c, 'done'));
  const t0 = now();
  for (const c of children) c.send('go');
  const outs = await Promise.all(done);
  const seconds = secondsSince(t0);
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  return { seconds, outs };
}

async function putRun({ procs, total, verify }) {
  const count = total / procs;
  const dir = freshDir(`put-p${procs}`);
  const ctx = initStore(dir);
  const { seconds } = await runChildren('putWorker.mjs', Array.from({ length: procs }, (_, w) => ({ dir, dist: distEntry, writer: w, count, seed: P.seed })));
  const r = { ...rate(total, seconds), processes: procs, perProcess: count };
  check(fs.readdirSync(ctx.layout.inbox).filter((n) => n.endsWith('.json')).length === total, 'put: every delta in the inbox');
  if (verify) {
    // The same workload as the read-modify-write runs, through framelog: merge, count what survived.
    const m = openMergerOn(ctx);
    try {
      m.merge();
      const st = toState(m.state);
      r.framelog = { expectedIncrements: total, counterA: st.counters.a, lostIncrements: total - st.counters.a, items: st.items.log.length, lostItems: total - st.items.log.length };
    } finally {
      m.close();
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return r;
}

async function rmwRun({ procs, total, variant }) {
  const count = total / procs;
  const dir = freshDir(`rmw-${variant}-p${procs}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'state.json');
  fs.writeFileSync(file, JSON.stringify({ counters: {}, entities: {}, items: {} }));
  const { seconds, outs } = await runChildren('rmwWorker.mjs', Array.from({ length: procs }, (_, w) => ({ file, writer: w, count, variant, seed: P.seed })));
  let st;
  try {
    st = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    st = undefined; // left corrupt for good: every update is lost
  }
  const a = st?.counters.a ?? 0;
  const items = st?.items.log?.length ?? 0;
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    ...rate(total, seconds), processes: procs, perProcess: count, expectedIncrements: total, counterA: a,
    lostIncrements: total - a, lostPct: round((100 * (total - a)) / total, 1), lostItems: total - items,
    tornReads: outs.reduce((s, o) => s + o.tornReads, 0), corrupt: st === undefined ? 1 : 0,
    writersGaveUp: outs.filter((o) => o.gaveUp).length, iterationsDone: outs.reduce((s, o) => s + o.iterations, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// stateAt: stores of 10k and 100k merged frames (1 writer, small deltas, snapshotEvery K)

const smallDelta = (f, rng) =>
  JSON.stringify({
    frame: f, writer: 'w00', utc: new Date(Date.UTC(2026, 0, 1) + f * 1000).toISOString(),
    counters: { a: 1, b: 1 + Math.floor(rng() * 9) },
    set: { ent: { [`e${Math.floor(rng() * ENTITIES)}`]: { f1: Math.floor(rng() * 1e6), f2: `v${Math.floor(rng() * 1e6)}` } } },
  });

/** Adds frames `from … to` to the store through the library: put a chunk, merge() it (one merge record, fsync, per frame). */
function buildFrames(dir, from, to) {
  const ctx = openStoreContext(dir);
  const m = openMergerOn(ctx);
  try {
    const rng = prng(P.seed + from);
    for (let s = from; s <= to; s += P.stateAt.chunk) {
      const inputs = [];
      for (let f = s; f <= Math.min(to, s + P.stateAt.chunk - 1); f++) inputs.push({ bytes: Buffer.from(smallDelta(f, rng)), source: `f${f}` });
      putDeltas(ctx, inputs);
      m.merge();
      if ((s - 1) % 10_000 === 0 && s > 1) log(`  ${path.basename(dir)}: ${s - 1} frames`);
    }
  } finally {
    m.close();
  }
}

const storeFrames = (dir) => {
  try {
    const recs = readMergeRecords(openStoreContext(dir));
    return recs.length > 0 && recs.at(-1).value.frame === recs.length ? recs.length : -1;
  } catch {
    return -1;
  }
};

/** The stateAt stores: cached under bench/.cache (except with --quick); each bigger one starts as a copy of the smaller. */
function stateAtStores() {
  const base = quick ? path.join(work, 'stateAt') : cacheDir;
  if (flag('rebuild-cache')) fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(base, { recursive: true });
  const out = [];
  let prev;
  for (const frames of P.stateAt.frames) {
    const dir = path.join(base, `store-${frames}`);
    const manifestFile = path.join(base, `store-${frames}.manifest.json`);
    let manifest = fs.existsSync(manifestFile) ? JSON.parse(fs.readFileSync(manifestFile, 'utf8')) : undefined;
    if (!manifest || storeFrames(dir) !== frames) {
      fs.rmSync(dir, { recursive: true, force: true });
      const t0 = now();
      let from = 1;
      if (prev) {
        fs.cpSync(prev.dir, dir, { recursive: true });
        from = prev.frames + 1;
      } else {
        initStore(dir, { snapshotEvery: P.stateAt.K });
      }
      log(`building the ${frames}-frame stateAt store (frames ${from}…${frames}) in ${path.relative(root, dir)}`);
      buildFrames(dir, from, frames);
      const seconds = secondsSince(t0);
      manifest = { frames, K: P.stateAt.K, framesBuilt: frames - from + 1, buildSeconds: round(seconds, 1), copiedFrom: prev ? prev.frames : null, builtAt: new Date().toISOString(), node: process.version, framelog: results.framelog, commit: results.code.commit };
      check(storeFrames(dir) === frames, `stateAt store of ${frames} frames`);
      fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
      manifest.cached = false;
    } else {
      manifest.cached = true;
    }
    out.push((prev = { dir, frames, manifest }));
  }
  return out;
}

function stateAtBench() {
  try {
    return stateAtMeasure(stateAtStores());
  } catch (e) {
    if (quick) throw e;
    // A cache built by an older framelog that today's code cannot read: build it again, once.
    log(`stateAt on the cached stores failed (${e.message}): rebuilding them`);
    fs.rmSync(cacheDir, { recursive: true, force: true });
    return stateAtMeasure(stateAtStores());
  }
}

function stateAtMeasure(stores) {
  const rng = prng(P.seed * 31);
  const picks = new Map(stores.map((s) => [s.frames, []]));
  for (const s of stores) {
    while (picks.get(s.frames).length < P.stateAt.samples) {
      const f = 1 + Math.floor(rng() * s.frames);
      if (f % P.stateAt.K !== 0) picks.get(s.frames).push(f);
    }
  }
  const times = new Map(stores.map((s) => [s.frames, []]));
  // Interleaved (10k, 100k, 10k, …), each call on a fresh openStoreContext.
  for (let i = 0; i < P.stateAt.samples; i++) {
    for (const s of stores) {
      const f = picks.get(s.frames)[i];
      const t0 = now();
      const ctx = openStoreContext(s.dir);
      const st = loadStateAt(ctx, f);
      times.get(s.frames).push(secondsSince(t0) * 1000);
      check(st.frame === f && st.counters.get('a') === f, `stateAt(${f}) on ${s.frames} frames: frame ${st.frame}, a = ${st.counters.get('a')}`);
    }
  }
  const out = {};
  for (const s of stores) {
    const ms = times.get(s.frames);
    out[s.frames] = {
      frames: s.frames, K: P.stateAt.K, samples: ms.length,
      medianMs: round(median(ms), 2), p95Ms: round(percentile(ms, 95), 2), minMs: round(Math.min(...ms), 2), maxMs: round(Math.max(...ms), 2),
      build: s.manifest, atFrames: picks.get(s.frames), ms: ms.map((x) => round(x, 2)),
    };
  }
  const [small, big] = stores.map((s) => out[s.frames]);
  out.ratioMedian = round(big.medianMs / small.medianMs, 2);
  out.ratioP95 = round(big.p95Ms / small.p95Ms, 2);
  return out;
}

// ---------------------------------------------------------------------------------------------
// In-memory: mergeFrame on prebuilt ValidDeltas (tinybench)

async function applyBench() {
  const { writers: W, frames: F } = P.apply;
  const frames = makeFrames({ frames: F, writers: W, seed: P.seed });
  const valid = frames.map((fr) =>
    fr.map((d) => {
      const c = validateDelta(JSON.parse(d.text), DEFAULT_PLAN);
      check(c.ok, 'validateDelta');
      return { delta: c.delta, file: `archive/merge-${d.obj.frame}/${d.obj.writer}.json` };
    }),
  );
  const D = W * F;
  const nowMs = Date.UTC(2026, 0, 2);
  const runMergeFrames = () => {
    const s = createMergeState();
    for (let i = 0; i < F; i++) mergeFrame(s, { frame: i + 1, deltas: valid[i], keys: {}, nowMs, maxSkewMs: DEFAULT_PLAN.maxSkewMs });
    return s;
  };
  const runApply = () => {
    const s = createMergeState();
    for (const fr of valid) for (const { delta } of fr) applyDelta(s, delta, {});
    return s;
  };
  // The same deltas under field policies (PROTOCOL §2a): f1 by max, f2 by writer priority.
  const policies = lib.compilePolicies({ ent: { f1: 'max', f2: { priority: [writerName(0), 'w*'] } } });
  const runApplyPolicies = () => {
    const s = createMergeState();
    for (const fr of valid) for (const { delta } of fr) applyDelta(s, delta, {}, undefined, policies);
    return s;
  };
  const final = runMergeFrames();
  check(final.counters.get('a') === D, 'mergeFrame result');
  const bytes = frames.flat().map((d) => Buffer.from(d.text));
  const bench = new Bench({ time: quick ? 300 : 2000, iterations: 5, warmupIterations: 2 });
  bench
    .add('mergeFrame', () => void runMergeFrames())
    .add('applyDelta', () => void runApply())
    .add('applyDeltaPolicies', () => void runApplyPolicies())
    .add('parseDelta', () => {
      for (const b of bytes) parseDelta(b, DEFAULT_PLAN);
    })
    .add('stateSha256', () => void stateSha256(final));
  await bench.run();
  const p50 = (name) => {
    const t = bench.tasks.find((x) => x.name === name);
    const r = t.result;
    return r?.latency?.p50 ?? r?.latency?.mean ?? NaN; // ms
  };
  const perIter = (name, n) => {
    const ms = p50(name);
    return { msPerRun: round(ms, 3), deltasPerSec: round((n / ms) * 1000, 0), opsPerSec: round(((n * OPS_PER_DELTA) / ms) * 1000, 0), usPerDelta: round((ms * 1000) / n, 2) };
  };
  return {
    writers: W, frames: F, deltas: D, opsPerDelta: OPS_PER_DELTA,
    mergeFrame: perIter('mergeFrame', D),
    applyDelta: perIter('applyDelta', D),
    applyDeltaPolicies: perIter('applyDeltaPolicies', D),
    parseDelta: { usPerDelta: round((p50('parseDelta') * 1000) / D, 2) },
    stateSha256AtEnd: { ms: round(p50('stateSha256'), 3), items: D, note: 'mergeFrame hashes the whole canonical state once per frame' },
  };
}

// ---------------------------------------------------------------------------------------------
// Run

const missing = [];
if (!Database) missing.push('better-sqlite3');
if (!Automerge) missing.push('@automerge/automerge');
if (!Bench) missing.push('tinybench');
if (missing.length) {
  console.error(`bench/merge: peers missing (${missing.join(', ')}): run npm --prefix bench install (npm run bench does it)`);
  process.exit(1);
}
const t00 = now();
console.error(`bench/merge: node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}${quick ? ', --quick' : ''}`);

if (wants('apply')) {
  log('in-memory apply (tinybench)');
  results.apply = await applyBench();
}

if (wants('durable')) {
  log(`durable merge: ${P.rounds} rounds × W ${P.writers.join('/')} × (framelog K=${P.snapshotEvery.join('/')}, sqlite, sqlite+audit), ${P.durableDeltas} deltas each`);
  // Warm-up (JIT, page cache, SQLite's first file creation), not recorded.
  framelogDurable({ W: 8, D: 64, snapshotEvery: 0, mode: 'live' });
  sqliteDurable({ W: 8, D: 64, audit: true });
  const trials = {};
  const add = (key, r) => (trials[key] ??= []).push(r);
  for (let r = 0; r < P.rounds; r++) {
    for (const W of P.writers) {
      for (const k of P.snapshotEvery) add(`framelog.k${k}.w${W}`, framelogDurable({ W, D: P.durableDeltas, snapshotEvery: k, mode: 'live' }));
      add(`sqlite.w${W}`, sqliteDurable({ W, D: P.durableDeltas, audit: false }));
      add(`sqliteAudit.w${W}`, sqliteDurable({ W, D: P.durableDeltas, audit: true }));
    }
    log(`  round ${r + 1}/${P.rounds} done (${secondsSince(t00).toFixed(0)} s)`);
  }
  const d = (results.durable = { framelog: {}, sqlite: {}, sqliteAudit: {} });
  for (const [key, list] of Object.entries(trials)) {
    const parts = key.split('.');
    if (parts[0] === 'framelog') (d.framelog[`snapshotEvery${parts[1].slice(1)}`] ??= {})[parts[2]] = summary(list);
    else d[parts[0]][parts[1]] = summary(list);
  }
  for (const [k, byW] of Object.entries(d.framelog)) byW.costRatio64to1 = round(byW.w64.usPerDelta / byW.w1.usPerDelta, 3);
}

if (wants('backlog')) {
  log(`durable merge from a pre-filled inbox: ${P.roundsOther} rounds × W ${P.writers.join('/')} × (merge --through f per frame, one merge()), ${P.backlogDeltas} deltas each`);
  const trials = {};
  for (let r = 0; r < P.roundsOther; r++)
    for (const W of P.writers) for (const mode of P.backlogModes) (trials[`${mode}.w${W}`] ??= []).push(framelogDurable({ W, D: P.backlogDeltas, snapshotEvery: 0, mode }));
  results.backlog = { snapshotEvery: 'default (checkpoints by bytes merged)' };
  for (const [key, list] of Object.entries(trials)) {
    const [mode, w] = key.split('.');
    (results.backlog[mode] ??= {})[w] = summary(list);
  }
}

if (wants('automerge')) {
  log(`automerge: ${P.rounds} rounds × W ${P.writers.join('/')}, ${P.automergeDeltas} deltas each`);
  automergeRun({ W: 8, D: 64 }); // warm-up (wasm compile, JIT), not recorded
  const trials = {};
  for (let r = 0; r < P.rounds; r++) for (const W of P.writers) (trials[`w${W}`] ??= []).push(automergeRun({ W, D: P.automergeDeltas }));
  results.automerge = { version: JSON.parse(fs.readFileSync(path.join(benchDir, 'node_modules/@automerge/automerge/package.json'), 'utf8')).version };
  for (const [w, list] of Object.entries(trials)) results.automerge[w] = summary(list);
}

if (wants('put')) {
  log(`put: ${P.roundsOther} rounds × ${P.putProcesses.join('/')} processes, ${P.putDeltas} deltas in all`);
  const trials = {};
  for (let r = 0; r < P.roundsOther; r++)
    for (const procs of P.putProcesses) (trials[`p${procs}`] ??= []).push(await putRun({ procs, total: P.putDeltas, verify: r === P.roundsOther - 1 && P.rmwProcesses.includes(procs) }));
  results.put = {};
  for (const [p, list] of Object.entries(trials)) {
    results.put[p] = summary(list);
    const v = list.find((t) => t.framelog);
    if (v) results.put[p].framelog = v.framelog;
  }
}

if (wants('putbatch')) {
  // One process, one store: the same deltas put one per call (a file and two syncs each) and in
  // batches of 100 (one batch file per call, PROTOCOL v1.1 §3).
  const N = quick ? 2000 : 10_000;
  log(`put in batches: ${P.roundsOther} rounds × ${N} deltas, one per call vs 100 per call`);
  const frames = makeFrames({ frames: N / 8, writers: 8, seed: P.seed });
  const inputs = frames.flatMap(toInputs);
  const trials = { single: [], batch100: [] };
  for (let r = 0; r < P.roundsOther; r++) {
    for (const mode of ['single', 'batch100']) {
      const dir = freshDir(`putbatch-${mode}`);
      const ctx = initStore(dir);
      const t0 = now();
      if (mode === 'single') for (const i of inputs) putDeltas(ctx, [i]);
      else for (let i = 0; i < inputs.length; i += 100) putDeltas(ctx, inputs.slice(i, i + 100));
      trials[mode].push(rate(N, secondsSince(t0)));
      const m = openMergerOn(ctx);
      try {
        const recs = m.merge();
        check(recs.reduce((a, x) => a + x.applied.length, 0) === N, `putbatch ${mode}: every delta merged`);
      } finally {
        m.close();
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  results.putBatch = { single: summary(trials.single), batch100: summary(trials.batch100) };
  results.putBatch.ratio = round(results.putBatch.batch100.deltasPerSec / results.putBatch.single.deltasPerSec, 1);
}

if (wants('rmw')) {
  log(`naive read-modify-write of state.json: ${P.roundsOther} rounds × ${P.rmwProcesses.join('/')} processes × (direct, rename), ${P.rmwDeltas} iterations in all`);
  const trials = {};
  for (let r = 0; r < P.roundsOther; r++)
    for (const procs of P.rmwProcesses) for (const variant of ['direct', 'rename']) (trials[`${variant}.p${procs}`] ??= []).push(await rmwRun({ procs, total: P.rmwDeltas, variant }));
  results.rmw = {};
  for (const [key, list] of Object.entries(trials)) {
    const [variant, p] = key.split('.');
    (results.rmw[variant] ??= {})[p] = { ...summary(list), lostIncrements: median(list.map((t) => t.lostIncrements)), lostPct: median(list.map((t) => t.lostPct)), lostItems: median(list.map((t) => t.lostItems)), tornReads: median(list.map((t) => t.tornReads)), corruptRuns: list.reduce((s, t) => s + t.corrupt, 0), runs: list.length };
  }
}

if (wants('stateat')) {
  log(`stateAt: stores of ${P.stateAt.frames.join(' and ')} frames (K=${P.stateAt.K}), ${P.stateAt.samples} cold calls each at random frames not multiples of K`);
  results.stateAt = stateAtBench();
}

// ---------------------------------------------------------------------------------------------
// Targets, notes, output

const t = (results.targets = {});
const fl = results.durable?.framelog;
if (fl) {
  for (const [k, byW] of Object.entries(fl)) t[`flatPerDeltaCost.${k}`] = { want: '≤ 1.25', costRatio64to1: byW.costRatio64to1, met: byW.costRatio64to1 <= 1.25 };
  for (const W of P.writers) {
    for (const [k, byW] of Object.entries(fl)) {
      const sq = results.durable.sqlite[`w${W}`];
      t[`vsSqlite.${k}.w${W}`] = { want: '≥ 1', ratio: round(byW[`w${W}`].deltasPerSec / sq.deltasPerSec, 3), met: byW[`w${W}`].deltasPerSec >= sq.deltasPerSec };
      const am = results.automerge?.[`w${W}`];
      if (am) t[`vsAutomerge.${k}.w${W}`] = { want: '≥ 100', ratio: round(byW[`w${W}`].deltasPerSec / am.deltasPerSec, 2), met: byW[`w${W}`].deltasPerSec >= 100 * am.deltasPerSec };
    }
  }
}
if (results.putBatch) t.putBatchOver10x = { want: '≥ 10', ratio: results.putBatch.ratio, met: results.putBatch.ratio >= 10 };
if (results.stateAt) t.stateAtFlat = { want: 'median(100k)/median(10k) ≈ 1', ratio: results.stateAt.ratioMedian };

results.notes.push(
  'All figures are medians of the rounds (every trial is kept beside its median, and best* is the best round). Rounds interleave the systems (framelog with the default checkpoints, framelog K=100, sqlite, sqlite+audit per W) so that drift on this shared, noisy machine hits them alike.',
  'durable framelog = merger.merge({through: f}) per frame on a store opened once (openMergerOn), after that frame\'s W deltas were put (not timed): validation, merge order, archive moves, conflict/event journals, the merge record, the snapshot (every snapshotEvery merges), each fsynced. µs/delta includes everything the merge call does.',
  'sqlite = better-sqlite3, journal_mode=WAL, synchronous=FULL, one transaction per frame: JSON.parse of the same text, sort by stamp, counters upsert (+=), fields upsert last-write-wins by (frame, utc instant, writer, seq), items INSERT OR IGNORE. sqliteAudit also keeps every delta\'s text in a table, as framelog keeps it in the archive.',
  'automerge = per frame, each writer\'s doc applies its delta with Automerge.change (Counter.increment, field assignment, list push; timed separately as changeUsPerDelta), then the merger doc Automerge.merge()s every writer doc (timed: deltasPerSec, usPerDelta). In memory only: no fsync, no save.',
  'backlog = the inbox holds every frame before the merge starts; through = merge({through: f}) per frame (each call re-reads and re-validates the whole remaining inbox), all = one merge() closing every frame (still one commit and fsyncs per frame).',
  'put = P processes (fork) each calling putDeltas with one delta per call (temp file, fsync, link, fsync of the inbox folder); wall time from the go message to the last process done. The P=8 and P=32 runs of the last round are then merged and counted: framelog.lostIncrements.',
  'rmw = N processes each reading state.json, parsing, applying the same delta and writing it back (direct: writeFileSync over it; rename: temp file + rename), no lock; lost = expected − surviving increments of counter a. A torn read (JSON.parse fails on a half-written file) is retried and counted in tornReads; with direct writes two concurrent truncate+write calls can leave the file unparseable for good (one write followed by the tail of a longer one): a writer that cannot parse it for 1 s gives up, and a run that ends with an unparseable state.json counts every increment as lost (corruptRuns).',
  'stateAt = openStoreContext + loadStateAt(ctx, f) per call, at random frames not multiples of K; the process, the OS page cache and the JIT stay warm (nothing is dropped): "cold" means no state cached by framelog.',
);

results.seconds = round(secondsSince(t00), 1);
results.machine.loadavgAtEnd = os.loadavg().map((x) => +x.toFixed(2));
fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
// A partial run (--only) keeps its own results beside the full one: merge-durable-putbatch.json.
const written = quick ? path.join(work, 'merge.json') : only ? resultsFile.replace(/\.json$/, `-${only.join('-')}.json`) : resultsFile;
fs.writeFileSync(written, JSON.stringify(results, null, 2) + '\n');
fs.writeFileSync(written.replace(/\.json$/, '.txt'), table(results) + '\n');
console.log(table(results));
console.error(`bench/merge: ${results.seconds} s; results in ${path.relative(process.cwd(), !only && !quick ? resultsFile : path.join(work, 'merge.json'))}`);

// ---------------------------------------------------------------------------------------------
// The readable table

function table(r) {
  const lines = [];
  const fmt = (x) => (typeof x === 'number' ? (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : String(round(x, 2))) : String(x ?? '–'));
  const tab = (title, head, rows) => {
    lines.push('', title);
    const all = [head, ...rows].map((row) => row.map(fmt));
    const w = head.map((_, i) => Math.max(...all.map((row) => row[i].length)));
    for (const [j, row] of all.entries()) {
      lines.push('  ' + row.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('   '));
      if (j === 0) lines.push('  ' + w.map((n) => '-'.repeat(n)).join('   '));
    }
  };
  lines.push(`framelog merge bench — ${r.date}, framelog ${r.code.commit ?? '?'}${r.code.srcFilesChangedSinceCommit ? ` (+${r.code.srcFilesChangedSinceCommit} changed src files)` : ''}, node ${r.node}, ${r.machine.cpus} cores (${r.machine.cpuModel}), load ${r.machine.loadavgAtStart[0]} at start, ${r.machine.loadavgAtEnd[0]} at end; medians of ${P.rounds} rounds (durable, automerge) or ${P.roundsOther} (the rest)`);
  if (r.apply) {
    const a = r.apply;
    tab(`In-memory (${a.deltas} prebuilt deltas, W=${a.writers}, ${a.frames} frames; op = counter, field or item, ${a.opsPerDelta}/delta)`, ['', 'ops/s', 'deltas/s', 'µs/delta'], [
      ['mergeFrame (sort, apply, state hash per frame)', a.mergeFrame.opsPerSec, a.mergeFrame.deltasPerSec, a.mergeFrame.usPerDelta],
      ['applyDelta alone', a.applyDelta.opsPerSec, a.applyDelta.deltasPerSec, a.applyDelta.usPerDelta],
      ...(a.applyDeltaPolicies ? [['applyDelta, fields under max and priority policies', a.applyDeltaPolicies.opsPerSec, a.applyDeltaPolicies.deltasPerSec, a.applyDeltaPolicies.usPerDelta]] : []),
      ['parseDelta (validation + content hash)', '', '', a.parseDelta.usPerDelta],
      [`stateSha256 of the final state (${a.deltas} items), ms`, '', '', a.stateSha256AtEnd.ms],
    ]);
  }
  if (r.durable) {
    const d = r.durable;
    const rows = [];
    for (const W of P.writers) {
      const w = `w${W}`;
      const f1 = d.framelog.snapshotEvery0[w], f100 = d.framelog.snapshotEvery100[w], s = d.sqlite[w], sa = d.sqliteAudit[w], am = r.automerge?.[w];
      rows.push([`W=${W}`, f1.deltasPerSec, f1.usPerDelta, f100.deltasPerSec, f100.usPerDelta, s.deltasPerSec, s.usPerDelta, sa.deltasPerSec, am?.deltasPerSec, am?.usPerDelta, round(f1.deltasPerSec / s.deltasPerSec, 2), round(f100.deltasPerSec / s.deltasPerSec, 2), am ? round(f1.deltasPerSec / am.deltasPerSec, 1) : '–', am ? round(f100.deltasPerSec / am.deltasPerSec, 1) : '–']);
    }
    rows.push(['cost(64)/cost(1)', '', d.framelog.snapshotEvery0.costRatio64to1, '', d.framelog.snapshotEvery100.costRatio64to1, '', round(d.sqlite.w64.usPerDelta / d.sqlite.w1.usPerDelta, 3), '', '', r.automerge ? round(r.automerge.w64.usPerDelta / r.automerge.w1.usPerDelta, 3) : '', '', '', '', '']);
    tab(`Durable merge, ${P.durableDeltas} deltas per run (framelog: fsync per frame; K = snapshotEvery; automerge: ${P.automergeDeltas} deltas, in memory)`, ['', 'fl default d/s', 'µs/d', 'fl K=100 d/s', 'µs/d', 'sqlite d/s', 'µs/d', 'sqlite+audit d/s', 'automerge d/s', 'µs/d', 'fl/sqlite', 'fl100/sqlite', 'fl/am', 'fl100/am'], rows);
  } else if (r.automerge) {
    tab(`Automerge merge (${P.automergeDeltas} deltas, in memory)`, ['', 'deltas/s', 'µs/delta', 'change µs/delta'], P.writers.map((W) => [`W=${W}`, r.automerge[`w${W}`].deltasPerSec, r.automerge[`w${W}`].usPerDelta, r.automerge[`w${W}`].changeUsPerDelta]));
  }
  if (r.durable) {
    const d = r.durable;
    tab('The same, best round (the least disturbed by other load on the machine), µs per delta', ['', 'framelog default', 'framelog K=100', 'sqlite', 'sqlite+audit', 'automerge'], P.writers.map((W) => {
      const w = `w${W}`;
      return [`W=${W}`, d.framelog.snapshotEvery0[w].bestUsPerDelta, d.framelog.snapshotEvery100[w].bestUsPerDelta, d.sqlite[w].bestUsPerDelta, d.sqliteAudit[w].bestUsPerDelta, r.automerge?.[w]?.bestUsPerDelta];
    }));
  }
  if (r.automerge && r.durable) {
    tab('Automerge: cost of the writers\' own changes (not in the merge figure)', ['', 'change µs/delta'], P.writers.map((W) => [`W=${W}`, r.automerge[`w${W}`].changeUsPerDelta]));
  }
  if (r.backlog) {
    tab(`framelog durable merge from a pre-filled inbox (${P.backlogDeltas} deltas, default checkpoints)`, ['', 'through/frame d/s', 'µs/d', 'one merge() d/s', 'µs/d'], P.writers.map((W) => [`W=${W}`, r.backlog.through[`w${W}`].deltasPerSec, r.backlog.through[`w${W}`].usPerDelta, r.backlog.all[`w${W}`].deltasPerSec, r.backlog.all[`w${W}`].usPerDelta]));
  }
  if (r.put) {
    tab(`put: P processes, ${P.putDeltas} deltas in all, one durable putDeltas per delta`, ['', 'deltas/s', 'µs/delta (wall)', 'lost increments after merge'], P.putProcesses.map((p) => [`P=${p}`, r.put[`p${p}`].deltasPerSec, r.put[`p${p}`].usPerDelta, r.put[`p${p}`].framelog ? `${r.put[`p${p}`].framelog.lostIncrements} of ${r.put[`p${p}`].framelog.expectedIncrements}` : '–']));
  }
  if (r.putBatch) {
    tab('put, one process: one delta per call vs batches of 100 (every call durable)', ['', 'deltas/s', 'µs/delta'], [['one per call', r.putBatch.single.deltasPerSec, r.putBatch.single.usPerDelta], ['100 per call', r.putBatch.batch100.deltasPerSec, r.putBatch.batch100.usPerDelta], ['ratio', r.putBatch.ratio, '']]);
  }
  if (r.rmw) {
    const rows = [];
    for (const p of P.rmwProcesses) for (const v of ['direct', 'rename']) {
      const x = r.rmw[v][`p${p}`];
      rows.push([`N=${p} ${v === 'direct' ? 'writeFileSync' : 'temp+rename'}`, x.trials[0].expectedIncrements, x.lostIncrements, `${x.lostPct}%`, x.lostItems, x.tornReads, `${x.corruptRuns}/${x.runs}`, r.put?.[`p${p}`]?.framelog?.lostIncrements ?? '–']);
    }
    tab(`Naive read-modify-write of one state.json (${P.rmwDeltas} updates in all, no lock) vs framelog`, ['', 'increments', 'lost', 'lost %', 'lost items', 'failed parses (retried)', 'file left corrupt', 'framelog lost'], rows);
  }
  if (r.stateAt) {
    const s = r.stateAt;
    const rows = P.stateAt.frames.map((f) => [`${f.toLocaleString('en-US')} frames`, s[f].medianMs, s[f].p95Ms, s[f].minMs, s[f].maxMs, `${s[f].build.buildSeconds} s${s[f].build.copiedFrom ? ` (+${s[f].build.framesBuilt} frames on a copy)` : ''}${s[f].build.cached ? ', cached' : ''}`]);
    rows.push([`ratio`, s.ratioMedian, s.ratioP95, '', '', '']);
    tab(`stateAt cold (fresh openStoreContext, ${P.stateAt.samples} random frames not multiples of K=${P.stateAt.K}; page cache warm), ms`, ['', 'median', 'p95', 'min', 'max', 'store build'], rows);
  }
  if (Object.keys(r.targets).length) {
    const rows = Object.entries(r.targets).map(([k, v]) => [k, v.want, v.ratio ?? v.costRatio64to1, v.met === undefined ? '' : v.met ? 'met' : 'NOT met']);
    tab('Targets', ['', 'want', 'measured', ''], rows);
  }
  return lines.join('\n');
}
