import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { FramelogError } from '../../errors.js';
import type { PutOutcome } from '../transport.js';
import { transportKey } from '../transportKey.js';
import { deltaSubject, type NatsNames } from './natsNames.js';

/**
 * The bytes of the headers a delta is published with: `NATS/1.0␍␊Nats-Msg-Id: <key>␍␊␍␊`, as the
 * client encodes them (the key is ASCII).
 */
export function deltaHeaderBytes(key: string): number {
  return 'NATS/1.0\r\nNats-Msg-Id: \r\n\r\n'.length + Buffer.byteLength(key);
}

/** The most header bytes any delta can need: a key with the longest frame, writer (128) and seq. */
export const MAX_DELTA_HEADER_BYTES = deltaHeaderBytes(`${Number.MIN_SAFE_INTEGER}/${'w'.repeat(128)}/${Number.MIN_SAFE_INTEGER}/${'0'.repeat(64)}`);

/**
 * Checks every delta's size against the server's `max_payload`, which bounds a message's bytes plus
 * its headers, before anything is sent: a delta that fits even with the longest possible headers
 * passes at once; one near the limit gets its key computed and is checked exactly. Throws
 * FramelogError `too-large` for the first delta over, naming its index, its size and its limit.
 * Returns the keys it computed (by index).
 */
export function checkDeltaSizes(maxPayload: number, deltas: Uint8Array[]): Map<number, string> {
  const keys = new Map<number, string>();
  deltas.forEach((bytes, i) => {
    if (bytes.byteLength + MAX_DELTA_HEADER_BYTES <= maxPayload) return;
    const key = transportKey(bytes);
    keys.set(i, key);
    const headerBytes = deltaHeaderBytes(key);
    if (bytes.byteLength + headerBytes > maxPayload) {
      throw new FramelogError(
        `nats put: delta ${i} is ${bytes.byteLength} bytes, over the limit of ${maxPayload - headerBytes} bytes (the server's max_payload ${maxPayload} less ${headerBytes} bytes of headers); nothing of this put was sent`,
        'too-large',
      );
    }
  });
  return keys;
}

/** Options of {@link publishDeltas}. */
export interface PublishOptions {
  /** Milliseconds to wait for each PubAck. */
  timeoutMs: number;
  /** Attempts per delta when the stream does not answer (no responders during a leader election, or a timeout); the same `Nats-Msg-Id` makes a repeat harmless. */
  attempts: number;
}

/** Deltas keyed and queued before the client is let send them (the next ones are keyed meanwhile). */
const SEND_EVERY = 50;

/**
 * Publishes every delta of one put (sizes checked by {@link checkDeltaSizes} first) without waiting
 * in between — pipelined on the one connection, the first ones on the wire while the next ones'
 * keys are computed — each on its subject with `Nats-Msg-Id` = its transport key, then waits for
 * all PubAcks. A PubAck marked `duplicate` (the server holds a message with this `Nats-Msg-Id` from
 * within its duplicate window) gives `duplicate: true`. When any publish failed, throws once all
 * have settled, naming the first failure (the others may be stored; putting them again is safe).
 */
export async function publishDeltas(js: JetStreamClient, names: NatsNames, deltas: Uint8Array[], known: Map<number, string>, o: PublishOptions): Promise<PutOutcome[]> {
  const keys: string[] = [];
  const acks: Array<Promise<PubAck>> = [];
  for (let i = 0; i < deltas.length; i++) {
    if (i > 0 && i % SEND_EVERY === 0) await null; // the client flushes what is queued (a microtask) before we go on
    const key = known.get(i) ?? transportKey(deltas[i]);
    keys.push(key);
    acks.push(js.publish(deltaSubject(names, key), deltas[i], { msgID: key, timeout: o.timeoutMs, retries: o.attempts }));
  }
  const settled = await Promise.allSettled(acks);
  const failed = settled.findIndex((s) => s.status === 'rejected');
  if (failed >= 0) {
    const why = (settled[failed] as PromiseRejectedResult).reason as Error;
    const count = settled.filter((s) => s.status === 'rejected').length;
    throw new FramelogError(`nats put: delta ${failed} (${keys[failed]}) on ${deltaSubject(names, keys[failed])} was not acknowledged: ${why?.message ?? String(why)} (${count} of ${deltas.length} failed; putting them again is safe)`, 'nats-put-failed');
  }
  return settled.map((s, i) => ({ id: keys[i], duplicate: (s as PromiseFulfilledResult<PubAck>).value.duplicate }));
}
