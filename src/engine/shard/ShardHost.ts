import { fork, type ChildProcess } from 'node:child_process';
import type { JsonObject } from '../../delta/types.js';
import { FramelogError } from '../../errors.js';
import { compiledPath } from './compiledPath.js';
import type { CoordinatorMessage, InitMessage, WorkerMessage } from './messages.js';

/** A worker process starting or ending. */
export interface WorkerEvent {
  type: 'start' | 'exit';
  /** 0, 1, 2 … in start order (a replacement takes a new number). */
  worker: number;
  pid: number | undefined;
  /** The shards it hosts (at start) or hosted (at exit). */
  shards: number[];
  code?: number | null;
  signal?: NodeJS.Signals | null;
}

/** How one frame went across the workers. */
export interface FrameReport {
  /** Shards whose worker said its delta is in the inbox. */
  reported: number[];
  /** Shards whose worker died before reporting. */
  crashed: number[];
  /** Shards that had not reported when the frame timeout passed. */
  timedOut: number[];
}

/** Options of {@link ShardHost.start}. */
export interface ShardHostOptions extends Omit<InitMessage, 'type' | 'module'> {
  /** The module exporting the simulation (`.ts` under `src/` maps to `dist/`). */
  module: string | URL;
  workers: number;
  frameTimeoutMs: number;
  onWorker?: (e: WorkerEvent) => void;
}

interface Worker {
  id: number;
  child: ChildProcess;
  alive: boolean;
  shards: number[];
  ready: Promise<void>;
}

interface OpenFrame {
  frame: number;
  waiting: Set<number>;
  crashed: number[];
  done: () => void;
}

const WORKER_URL = new URL('./shardWorker.js', import.meta.url);

/**
 * Hosts the S shards of a run on W worker processes (shard k starts on worker k mod W). For each
 * frame it sends every live worker its shards and the last merged frame (each worker keeps a
 * replica of the state and catches it up from the store's archive: the state never travels), and waits until every shard has
 * reported, its worker has died, or the frame timeout has passed — never longer. A dead worker's
 * shards move to the live worker hosting the fewest (or to a new process when none is left).
 */
export class ShardHost {
  private readonly workers: Worker[] = [];
  private open: OpenFrame | undefined;
  private nextId = 0;
  private readonly init: InitMessage;

  private constructor(private readonly o: ShardHostOptions) {
    this.init = { type: 'init', dir: o.dir, module: compiledPath(o.module), exportName: o.exportName, seed: o.seed, params: o.params as JsonObject, shards: o.shards, start: o.start, stepMs: o.stepMs, wallTime: o.wallTime };
  }

  /** Starts the worker processes and waits until each has loaded the simulation. */
  static async start(o: ShardHostOptions): Promise<ShardHost> {
    if (!Number.isSafeInteger(o.workers) || o.workers < 1) throw new FramelogError(`workers ${o.workers}: must be an integer ≥ 1`, 'bad-argument');
    const host = new ShardHost(o);
    const w = Math.min(o.workers, o.shards);
    for (let i = 0; i < w; i++) host.spawn(Array.from({ length: o.shards }, (_, k) => k).filter((k) => k % w === i));
    await Promise.all(host.workers.map((x) => x.ready));
    return host;
  }

  /** Live workers' pids and shards. */
  get live(): Array<{ worker: number; pid: number | undefined; shards: number[] }> {
    return this.workers.filter((w) => w.alive).map((w) => ({ worker: w.id, pid: w.child.pid, shards: [...w.shards] }));
  }

  private spawn(shards: number[]): Worker {
    const child = fork(compiledPath(WORKER_URL), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const id = this.nextId++;
    let readyResolve!: () => void, readyReject!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    const w: Worker = { id, child, alive: true, shards, ready };
    this.workers.push(w);
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') readyResolve();
      else if (m.type === 'error') readyReject(new FramelogError(`shard worker ${id}: ${m.message}`, 'worker-failed'));
      else if (m.type === 'done' && this.open && m.frame === this.open.frame) {
        for (const s of m.shards) this.open.waiting.delete(s);
        if (this.open.waiting.size === 0) this.open.done();
      }
    });
    child.on('exit', (code, signal) => this.onExit(w, code, signal));
    child.on('error', () => this.onExit(w, null, null));
    this.send(w, this.init);
    this.o.onWorker?.({ type: 'start', worker: id, pid: child.pid, shards: [...shards] });
    ready.catch(() => undefined);
    return w;
  }

  private send(w: Worker, m: CoordinatorMessage): void {
    if (!w.alive || !w.child.connected) return;
    try {
      w.child.send(m);
    } catch {
      // The exit handler moves its shards.
    }
  }

  private onExit(w: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (!w.alive) return;
    w.alive = false;
    this.o.onWorker?.({ type: 'exit', worker: w.id, pid: w.child.pid, shards: [...w.shards], code, signal });
    const orphans = w.shards;
    w.shards = [];
    if (this.open) {
      for (const s of orphans) {
        if (this.open.waiting.delete(s)) this.open.crashed.push(s);
      }
      if (this.open.waiting.size === 0) this.open.done();
    }
    const heir = this.workers.filter((x) => x.alive).sort((a, b) => a.shards.length - b.shards.length || a.id - b.id)[0];
    if (heir) heir.shards = [...heir.shards, ...orphans].sort((a, b) => a - b);
    else this.orphans.push(...orphans);
  }

  private orphans: number[] = [];

  /** Runs one frame on the workers (see {@link FrameReport}). */
  async frame(frame: number, through: number | null): Promise<FrameReport> {
    if (this.orphans.length > 0) {
      const w = this.spawn(this.orphans.sort((a, b) => a - b));
      this.orphans = [];
      await w.ready;
    }
    const all = Array.from({ length: this.o.shards }, (_, k) => k);
    const open: OpenFrame = { frame, waiting: new Set(all), crashed: [], done: () => undefined };
    const finished = new Promise<void>((res) => (open.done = res));
    this.open = open;
    let timer: NodeJS.Timeout | undefined;
    try {
      for (const w of this.workers) if (w.alive && w.shards.length > 0) this.send(w, { type: 'frame', frame, shards: w.shards, through });
      // Shards of workers that died before this frame was sent: nobody will report them.
      if (this.orphans.length > 0) {
        for (const s of this.orphans) if (open.waiting.delete(s)) open.crashed.push(s);
      }
      if (open.waiting.size > 0) {
        await Promise.race([finished, new Promise<void>((res) => (timer = setTimeout(res, this.o.frameTimeoutMs)))]);
      }
    } finally {
      clearTimeout(timer);
      this.open = undefined;
    }
    const timedOut = [...open.waiting].sort((a, b) => a - b);
    const crashed = open.crashed.sort((a, b) => a - b);
    const reported = all.filter((s) => !open.waiting.has(s) && !crashed.includes(s));
    return { reported, crashed, timedOut };
  }

  /** Asks the workers to exit and waits for them (SIGKILL after `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    const alive = this.workers.filter((w) => w.alive);
    const exits = alive.map((w) => new Promise<void>((res) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return res();
      w.child.once('exit', () => res());
    }));
    for (const w of alive) this.send(w, { type: 'stop' });
    const timer = setTimeout(() => { for (const w of alive) w.child.kill('SIGKILL'); }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }
}
