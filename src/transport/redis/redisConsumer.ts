import type { Redis } from 'ioredis';
import { FramelogError } from '../../errors.js';
import type { Arrival } from '../transport.js';
import { MERGER_GROUP, type RedisKeys } from './redisKeys.js';
import { entryFields } from './redisMerges.js';
import { ACK_SCRIPT, DROP_IDLE_CONSUMERS_SCRIPT } from './redisScripts.js';
import { runScript } from './redisScript.js';

/** The merger's side of the deltas stream: what it claimed, and acknowledging it. */
export interface RedisConsumer {
  /** Claims what a dead merger left unacknowledged (first call of a session), then reads what is new. */
  pull(): Promise<Arrival[]>;
  /** Acknowledges and deletes the entries, and frees their keys for a re-put: one script call. */
  ack(ids: string[]): Promise<void>;
  /** The next `pull` claims every unacknowledged entry again (a new merger session). */
  newSession(): void;
  /** Drops this consumer from the group when it holds nothing. */
  close(): Promise<void>;
}

/** Options of {@link createRedisConsumer}. */
export interface RedisConsumerOptions {
  /** This merger's consumer name in the group. */
  name: string;
  /** Entries per `XREADGROUP` (default 5000). */
  readCount?: number;
  /** One `pull` stops reading once it holds this many bytes (default 256 MiB); the rest comes next time. */
  maxPullBytes?: number;
  /**
   * Within a session, a `pull` at most this often also claims again the entries delivered this long
   * ago and still unacknowledged (default 60 s): a delivery whose landing failed comes back without
   * a restart; one waiting in the inbox for its frame is landed again, a no-op.
   */
  reclaimMs?: number;
}

/** Creates the consumer group (reading the stream from its start), creating the stream too; an existing group is kept. */
export async function ensureMergerGroup(redis: Redis, keys: RedisKeys): Promise<void> {
  try {
    await redis.call('XGROUP', ['CREATE', keys.deltas, MERGER_GROUP, '0', 'MKSTREAM']);
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('BUSYGROUP')) throw e;
  }
}

type Entry = [Buffer, Buffer[] | null];
/** Entries of a pull's first read (and of each XAUTOCLAIM page), before the entries' size is known. */
const FIRST_READ = 200;

/**
 * The consumer of group `mergers`. A session's first `pull` runs `XAUTOCLAIM … 0 0-0` until the
 * cursor comes back `0-0`, taking over every entry delivered and not acknowledged — a killed
 * merger's, and this process's own from an earlier session — then `XREADGROUP … >` until a short
 * read. `Arrival.id` is the stream id; the consumer keeps id → transport key in memory so `ack` can
 * free the pending key without reading the entry back.
 */
export function createRedisConsumer(redis: Redis, keys: RedisKeys, o: RedisConsumerOptions): RedisConsumer {
  const count = o.readCount ?? 5000;
  const maxBytes = o.maxPullBytes ?? 256 * 1024 * 1024;
  const reclaimMs = o.reclaimMs ?? 60_000;
  const keyOf = new Map<string, string>();
  let claimed = false;
  let claimedAt = 0;
  let used = false;

  const take = (entries: Entry[], out: Arrival[]): number => {
    let bytes = 0;
    for (const [idBuf, fields] of entries) {
      if (fields === null) continue; // deleted after delivery: acknowledged already
      const id = idBuf.toString('latin1');
      const f = entryFields(fields);
      const d = f.get('d');
      const k = f.get('k');
      if (!d || !k) throw new FramelogError(`${keys.deltas} entry ${id} has no "d" (bytes) or "k" (key) field: not written by framelog; remove it with XDEL ${keys.deltas} ${id}`, 'redis-reply');
      keyOf.set(id, k.toString('utf8'));
      out.push({ id, bytes: d });
      bytes += d.byteLength;
    }
    return bytes;
  };

  /** Runs `fn`, recreating the group once when it is gone (the stream was deleted behind our back). */
  const withGroup = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOGROUP')) throw e;
      await ensureMergerGroup(redis, keys);
      return fn();
    }
  };

  /** Claims every unacknowledged entry delivered at least `minIdleMs` ago, whoever it was delivered to. */
  async function claimIdle(out: Arrival[], minIdleMs: number): Promise<void> {
    claimedAt = Date.now();
    let cursor = '0-0';
    do {
      const [next, entries] = (await redis.callBuffer('XAUTOCLAIM', [keys.deltas, MERGER_GROUP, o.name, minIdleMs, cursor, 'COUNT', FIRST_READ])) as [Buffer, Entry[]];
      take(entries, out);
      cursor = next.toString('latin1');
    } while (cursor !== '0-0');
  }

  return {
    async pull() {
      used = true;
      const out: Arrival[] = [];
      if (!claimed) {
        await withGroup(() => claimIdle(out, 0));
        await runScript(redis, DROP_IDLE_CONSUMERS_SCRIPT, [keys.deltas], [MERGER_GROUP, o.name]);
        claimed = true;
      } else if (Date.now() - claimedAt >= reclaimMs) {
        await withGroup(() => claimIdle(out, reclaimMs));
      }
      // COUNT bounds entries, not bytes: start small, then size each read by the entries seen so far.
      let bytes = 0, read = 0;
      let want = Math.min(count, FIRST_READ);
      for (;;) {
        const reply = (await withGroup(() => redis.callBuffer('XREADGROUP', ['GROUP', MERGER_GROUP, o.name, 'COUNT', want, 'STREAMS', keys.deltas, '>']))) as Array<[Buffer, Entry[]]> | null;
        const entries = reply?.[0]?.[1] ?? [];
        bytes += take(entries, out);
        read += entries.length;
        if (entries.length < want || bytes >= maxBytes) return out;
        want = Math.max(1, Math.min(count, Math.floor((maxBytes - bytes) / Math.max(1, bytes / read))));
      }
    },

    async ack(ids) {
      if (ids.length === 0) return;
      const calls: Array<Promise<unknown>> = [];
      for (let i = 0; i < ids.length; i += 4096) {
        const args: string[] = [MERGER_GROUP];
        for (const id of ids.slice(i, i + 4096)) args.push(id, keyOf.get(id) ?? '');
        calls.push(runScript(redis, ACK_SCRIPT, [keys.deltas, keys.pending], args));
      }
      await Promise.all(calls);
      for (const id of ids) keyOf.delete(id);
    },

    newSession() {
      claimed = false;
    },

    async close() {
      if (!used) return;
      try {
        await runScript(redis, DROP_IDLE_CONSUMERS_SCRIPT, [keys.deltas], [MERGER_GROUP, '']);
      } catch (e) {
        // The stream or its group is gone (the store's keys were deleted): so is this consumer.
        if (!(e instanceof Error) || !/NOGROUP|no such key/i.test(e.message)) throw e;
      }
    },
  };
}
