import { parseDelta } from '../delta/validateDelta.js';
import type { Delta, JsonObject, JsonValue } from '../delta/types.js';
import { nextPendingSeq } from '../resolve/planResolution.js';
import { lastMergedFrame } from '../store/history/lastMergedFrame.js';
import type { StoreContext } from '../store/storeContext.js';
import type { Transport } from '../transport/transport.js';
import { checkSize, type EmitLimits } from './emitLimits.js';
import { McpRefusal } from './McpRefusal.js';

/** The operations of a delta an agent emits; the server adds `frame`, `utc`, `writer` and `seq`. */
export interface DeltaOps {
  counters?: Record<string, number>;
  set?: Record<string, Record<string, Record<string, JsonValue>>>;
  items?: Record<string, JsonObject[]>;
  events?: JsonObject[];
  meta?: JsonValue;
  status?: 'ok' | 'fallback';
  resolves?: string[];
}

/** One emit: the writer (already decided by the session), optional identity parts and a retry key. */
export interface EmitRequest {
  writer: string;
  /** Default: the open frame (the frame after the last merge). */
  frame?: number;
  /** Default: the next seq of this writer in that frame (0, 1, 2… as the library's Writer gives them). */
  seq?: number;
  /** A retry key: a second emit with the same writer and key puts the first one's bytes again instead of a new delta. */
  key?: string;
  ops: DeltaOps;
}

/** What an emit did. */
export interface EmitResult {
  frame: number;
  writer: string;
  seq: number;
  utc: string;
  sha256: string;
  /** False when the store already had this delta (a retry, or a redelivery). */
  written: boolean;
  /** True when `key` was seen before: the first emit's delta was put again, unchanged. */
  retried: boolean;
}

/** Puts deltas for MCP sessions, one at a time, through the store's transport. */
export interface Emitter {
  emit(req: EmitRequest): Promise<EmitResult>;
  /** Reserves the next `n` seqs of `writer` in `frame` (for resolutions built elsewhere); returns the first. */
  reserveSeqs(writer: string, frame: number, n: number): number;
  /** Validates and puts whole deltas (resolutions), one after another. */
  putDeltas(deltas: Delta[]): Promise<EmitResult[]>;
  /** The frame an emit without one goes to. */
  openFrame(): number;
  /** Runs `fn` alone: no other write of this server runs meanwhile. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

/** Retry keys remembered per server (oldest forgotten first). */
const MAX_KEYS = 10_000;

/**
 * Creates the emitter of one MCP server: every session's writes go through it, one at a time, so
 * the seqs it hands out never collide. A writer's first emit to a frame starts after the seqs it
 * already has pending in the inbox (a restarted server carries on), and keys are remembered for the
 * server's life: an agent that retries a call whose answer it lost gets the same delta, applied once.
 */
export function createEmitter(ctx: StoreContext, transport: Transport, limits: Pick<EmitLimits, 'maxDeltaBytes'>, clock: () => number = Date.now): Emitter {
  const nextSeq = new Map<string, number>();
  const keys = new Map<string, { bytes: Buffer; result: EmitResult }>();
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const openFrame = (): number => {
    const last = lastMergedFrame(ctx);
    return last === null ? 0 : last + 1;
  };
  const seqKey = (writer: string, frame: number): string => `${frame}\u0000${writer}`;
  const reserveSeqs = (writer: string, frame: number, n: number): number => {
    const k = seqKey(writer, frame);
    const first = nextSeq.get(k) ?? nextPendingSeq(ctx, frame, writer);
    nextSeq.set(k, first + n);
    return first;
  };
  const put = async (bytes: Buffer, what: string): Promise<EmitResult> => {
    checkSize(what, bytes.length, limits);
    const check = parseDelta(bytes, ctx.plan);
    if (!check.ok) throw new McpRefusal(check.problem.field, check.problem.rule);
    const [outcome] = await transport.put([bytes]);
    const d = check.delta;
    return { frame: d.frame, writer: d.writer, seq: d.seq, utc: d.utc, sha256: d.sha256, written: !outcome.duplicate, retried: false };
  };
  return {
    openFrame,
    reserveSeqs,
    exclusive,
    emit: (req) =>
      exclusive(async () => {
        const keyOf = req.key === undefined ? undefined : `${req.writer}\u0000${req.key}`;
        const seen = keyOf === undefined ? undefined : keys.get(keyOf);
        if (seen) {
          const again = await put(seen.bytes, 'delta');
          return { ...seen.result, written: again.written, retried: true };
        }
        const frame = req.frame ?? openFrame();
        if (req.seq !== undefined) {
          const k = seqKey(req.writer, frame);
          nextSeq.set(k, Math.max(nextSeq.get(k) ?? nextPendingSeq(ctx, frame, req.writer), req.seq + 1));
        }
        const seq = req.seq ?? reserveSeqs(req.writer, frame, 1);
        const delta = { frame, writer: req.writer, seq, utc: new Date(clock()).toISOString(), ...req.ops };
        const bytes = Buffer.from(JSON.stringify(delta));
        const result = await put(bytes, 'delta');
        if (keyOf !== undefined) {
          keys.set(keyOf, { bytes, result });
          if (keys.size > MAX_KEYS) keys.delete(keys.keys().next().value as string);
        }
        return result;
      }),
    putDeltas: async (deltas) => {
      const out: EmitResult[] = [];
      for (const d of deltas) out.push(await put(Buffer.from(JSON.stringify(d)), 'resolution'));
      return out;
    },
  };
}
