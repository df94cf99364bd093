import { FramelogError } from '../errors.js';
import { isWriterName } from '../delta/plan.js';
import { describeProblem, validateDelta } from '../delta/validateDelta.js';
import type { Delta, JsonObject } from '../delta/types.js';
import { putDeltas, type PutResult } from '../store/inbox/putDeltas.js';
import { resolveStoreDir } from '../store/layout.js';
import { openStoreContext, type StoreContext } from '../store/storeContext.js';
import { createDeltaBuilder, type DeltaBuilder } from './deltaBuilder.js';

/** Options of {@link createWriter}. */
export interface WriterOptions {
  /** The writer's name: 1–128 chars of `[A-Za-z0-9._-]`. */
  writer: string;
  /** The store folder (default: `FRAMELOG_DIR`, then `.framelog`). */
  dir?: string;
  /** Wall clock for `utc` (default: `Date.now`). */
  clock?: () => number;
}

/** What {@link Writer.run} did. */
export interface UnitResult {
  status: 'ok' | 'fallback';
  put: PutResult;
  /** The delta written (fallback or not). */
  delta: Delta;
  /** What the work threw, when it fell back. */
  error?: unknown;
}

/**
 * A writer stamps deltas with `(frame, utc, writer, seq)` and drops them atomically into the
 * store's inbox. It never touches shared state. Within a frame, units of work take seq 0, 1, 2…
 * in call order, so a re-run of the same work (same frame, same order) reuses the same seq and
 * the merge engine recognises the copy.
 */
export interface Writer {
  readonly name: string;
  /** Runs one unit of work; when it throws, emits a fallback delta (same seq) instead. */
  run(frame: number, work: (d: DeltaBuilder) => void | Promise<void>, opts?: { seq?: number }): Promise<UnitResult>;
  /** Emits a delta built by `build`. */
  emit(frame: number, build: (d: DeltaBuilder) => void, opts?: { seq?: number }): Promise<PutResult>;
  /** Emits a fallback delta: the writer ran but has nothing to contribute. */
  fallback(frame: number, opts?: { seq?: number; meta?: JsonObject }): Promise<PutResult>;
  /** The seq the next unit of `frame` will take. */
  nextSeq(frame: number): number;
}

/** Creates a {@link Writer} on the store at `opts.dir`. */
export function createWriter(opts: WriterOptions): Writer {
  if (!isWriterName(opts.writer)) throw new FramelogError(`writer ${JSON.stringify(opts.writer)}: must be 1–128 chars of [A-Za-z0-9._-], not . or ..`, 'bad-writer');
  const ctx: StoreContext = openStoreContext(resolveStoreDir(opts.dir));
  const clock = opts.clock ?? Date.now;
  const seqs = new Map<number, number>();
  const take = (frame: number, seq?: number): number => {
    const next = seqs.get(frame) ?? 0;
    const s = seq ?? next;
    seqs.set(frame, Math.max(next, s + 1));
    return s;
  };
  const write = (d: Delta): PutResult => {
    const source = `writer ${opts.writer} frame ${d.frame}`;
    // Check the object itself first: JSON.stringify would turn NaN into null and hide the fault.
    const check = validateDelta(d, ctx.plan);
    if (!check.ok) throw new FramelogError(`${source}: ${describeProblem(check.problem)}`, 'bad-delta');
    return putDeltas(ctx, [{ bytes: Buffer.from(JSON.stringify(d)), source }])[0];
  };
  const stamp = (frame: number, seq: number) => ({ frame, writer: opts.writer, utc: new Date(clock()).toISOString(), seq });
  const fallbackDelta = (frame: number, seq: number, meta?: JsonObject): Delta => ({ ...stamp(frame, seq), status: 'fallback', ...(meta ? { meta } : {}) });
  return {
    name: opts.writer,
    nextSeq: (frame) => seqs.get(frame) ?? 0,
    async emit(frame, build, o = {}) {
      const b = createDeltaBuilder();
      build(b);
      return write(b.toDelta(stamp(frame, take(frame, o.seq))));
    },
    async fallback(frame, o = {}) {
      return write(fallbackDelta(frame, take(frame, o.seq), o.meta));
    },
    async run(frame, work, o = {}) {
      const seq = take(frame, o.seq);
      const b = createDeltaBuilder();
      try {
        await work(b);
      } catch (error) {
        const delta = fallbackDelta(frame, seq, { error: String((error as Error)?.message ?? error) });
        return { status: 'fallback', put: write(delta), delta, error };
      }
      const delta = b.toDelta(stamp(frame, seq));
      return { status: 'ok', put: write(delta), delta };
    },
  };
}
