import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityKey } from '../../delta/identity.js';
import { seededRandom } from '../../engine/rng/seededRandom.js';
import { readLog } from '../../store/history/journalQueries.js';
import { openStoreContext } from '../../store/storeContext.js';
import { verifyStore } from '../../store/history/verifyStore.js';
import type { TransportName } from '../transport.js';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Options of {@link runMergerFailover}. */
export interface FailoverOptions {
  transport: TransportName;
  url: string;
  store: string;
  /** A fresh folder for the merger hosts' stores and the delta files. */
  root: string;
  frames?: number;
  writers?: number;
  leaseTtlMs?: number;
  seed?: number;
}

/** One merger process's life, as its parent saw it (ms since the run started). */
export interface MergerLife {
  host: string;
  started: number;
  acquired?: number;
  exited?: number;
  /** When the parent sent SIGKILL: the process ran no code after it. */
  killedAt?: number;
  killed: boolean;
  merges: number;
}

/** What {@link runMergerFailover} saw and checked. */
export interface FailoverReport {
  lives: MergerLife[];
  sent: number;
  applied: number;
  /** Identities applied more than once across the published history. */
  twice: string[];
  /** Identities sent and never applied. */
  lost: string[];
  /** Pairs of merger lives that both held the lease at once. */
  overlaps: string[];
  /** For each kill of the lease holder while the other host waited: ms until the other held the lease. */
  takeoversMs: number[];
  /** Faults `verify` found on host A and on the fresh host C (empty: green). */
  verifyA: string[];
  verifyFresh: string[];
  /** The fresh host, which never merged, holds the same journal as host A after catching up. */
  freshEqual: boolean;
  mergerKills: number;
  /** Mergers that ended by themselves while the run went on (none should). */
  errors: string[];
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Failover under fire, with real processes: writers put through the CLI; two merger hosts (two
 * store folders) run `framelog merge --watch` at once, and the lease holder is SIGKILLed again and
 * again and restarted. Then a one-shot merge on host A and on a fresh host C (which only catches
 * up from the published merges) closes the rest. Checks: every delta applied exactly once in the
 * published history, never two lease holders at once, each killed holder replaced within the
 * lease time, verify green on A and C, and C's journal equal to A's.
 */
export async function runMergerFailover(o: FailoverOptions): Promise<FailoverReport> {
  const frames = o.frames ?? 10, nW = o.writers ?? 3, ttl = o.leaseTtlMs ?? 1500;
  const rnd = seededRandom(o.seed ?? 7);
  const writers = Array.from({ length: nW }, (_, i) => `w${i}`);
  const base = ['--transport', o.transport, '--url', o.url, '--store', o.store];
  const hosts = { A: join(o.root, 'hostA'), B: join(o.root, 'hostB'), C: join(o.root, 'hostC') };
  for (const dir of Object.values(hosts)) {
    const r = cli(['transport', 'init', ...base, '--dir', dir, '--writers', writers.join(','), '--frame-timeout', '400']);
    if (r.status !== 0) throw new Error(`transport init ${dir}: ${r.stderr}`);
  }
  mkdirSync(join(o.root, 'in'), { recursive: true });
  const t0 = Date.now();
  const at = (): number => Date.now() - t0;
  const lives: MergerLife[] = [];
  const errors: string[] = [];
  let stop = false;
  const running = new Map<string, { child: ChildProcess; life: MergerLife; done: Promise<void> }>();

  const startMerger = (host: 'A' | 'B'): void => {
    const child = spawn(process.execPath, [CLI, 'merge', ...base, '--dir', hosts[host], '--watch', '--json', '--lease-ttl', String(ttl)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const life: MergerLife = { host, started: at(), killed: false, merges: 0 };
    lives.push(life);
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      if (life.acquired === undefined && s.includes('merger lease acquired')) life.acquired = at();
    });
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (life.merges += s.split('\n').filter(Boolean).length));
    const done = new Promise<void>((r) => child.on('exit', (code, signal) => {
      life.exited = at();
      if (!life.killed && !stop) errors.push(`merger on host ${host} exited by itself (${code ?? signal}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
      r();
    }));
    running.set(host, { child, life, done });
  };

  const sent = new Set<string>();
  const writer = async (w: string): Promise<void> => {
    for (let f = 1; f <= frames; f++) {
      const file = join(o.root, 'in', `${w}-${f}.json`);
      writeFileSync(file, JSON.stringify({ frame: f, writer: w, utc: new Date(Date.UTC(2026, 4, 1, 0, 0, f)).toISOString(), counters: { n: 1 }, set: { board: { leader: { by: w } } } }));
      let err = '';
      const r = await new Promise<number | null>((resolve) => {
        const c = spawn(process.execPath, [CLI, 'put', ...base, file], { stdio: ['ignore', 'ignore', 'pipe'] });
        c.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
        c.on('exit', resolve);
      });
      if (r !== 0) throw new Error(`put ${file} exited ${r}: ${err.trim()}`);
      sent.add(identityKey({ frame: f, writer: w, seq: 0 }));
      await sleep(100 + rnd() * 200);
    }
  };

  let mergerKills = 0;
  const takeoversMs: number[] = [];
  const chaos = async (): Promise<void> => {
    startMerger('A');
    startMerger('B');
    while (!stop) {
      await sleep(900 + rnd() * 1200);
      const holder = [...running.values()].find((r) => r.life.acquired !== undefined && r.life.exited === undefined);
      if (!holder || stop) continue;
      const other = [...running.values()].find((r) => r !== holder && r.life.exited === undefined);
      const killedAt = at();
      holder.life.killed = true;
      holder.life.killedAt = at();
      holder.child.kill('SIGKILL');
      await holder.done;
      mergerKills++;
      if (other) {
        const until = Date.now() + ttl + 8000;
        while (other.life.acquired === undefined && Date.now() < until && other.life.exited === undefined) await sleep(20);
        if (other.life.acquired !== undefined) takeoversMs.push(other.life.acquired - killedAt);
      }
      startMerger(holder.life.host as 'A' | 'B'); // the killed host comes back and waits
    }
    // The waiting mergers stop first: one stopped after the holder could take the lease the
    // holder releases on SIGTERM, and be seen taking it before the holder's exit is seen.
    const live = [...running.values()];
    const waiting = live.filter((r) => r.life.acquired === undefined);
    for (const r of [...waiting, ...live.filter((r) => !waiting.includes(r))]) {
      r.child.kill('SIGTERM');
      await r.done;
    }
  };

  const chaosDone = chaos();
  await Promise.all(writers.map(writer));
  await sleep(1500);
  stop = true;
  await chaosDone;

  for (const dir of [hosts.A, hosts.C]) {
    const r = cli(['merge', ...base, '--dir', dir, '--lease-ttl', String(ttl)]);
    if (r.status !== 0) throw new Error(`final merge on ${dir}: ${r.stderr}`);
  }
  const a = openStoreContext(hosts.A), c = openStoreContext(hosts.C);
  const records = readLog(a);
  const applied = records.flatMap((r) => r.applied.map((x) => identityKey(x)));
  const count = new Map<string, number>();
  for (const id of applied) count.set(id, (count.get(id) ?? 0) + 1);
  const twice = [...count].filter(([, n]) => n > 1).map(([id]) => id);
  const seen = new Set(count.keys());
  const overlaps: string[] = [];
  const held = lives.filter((l) => l.acquired !== undefined);
  for (let i = 0; i < held.length; i++) {
    for (let j = i + 1; j < held.length; j++) {
      const x = held[i], y = held[j];
      if (x.host === y.host) continue;
      const xEnd = x.killedAt ?? x.exited ?? Infinity, yEnd = y.killedAt ?? y.exited ?? Infinity;
      if (x.acquired! < yEnd && y.acquired! < xEnd) overlaps.push(`${x.host}@${x.acquired}-${x.exited} and ${y.host}@${y.acquired}-${y.exited}`);
    }
  }
  const faults = (ctx: typeof a): string[] => verifyStore(ctx).faults.map((f) => JSON.stringify(f));
  const journal = (ctx: typeof a): string => JSON.stringify(readLog(ctx));
  return {
    lives, sent: sent.size, applied: applied.length, twice, lost: [...sent].filter((id) => !seen.has(id)), overlaps, takeoversMs,
    verifyA: faults(a), verifyFresh: faults(c), freshEqual: journal(a) === journal(c), mergerKills, errors,
  };
}
