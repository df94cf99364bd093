import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { createInbox, nanos, type Msg, type NatsConnection } from '@nats-io/nats-core';
import { FramelogError } from '../../errors.js';
import type { Arrival } from '../transport.js';
import type { NatsNames } from './natsNames.js';
import { JS_CODES, jsErrorCode } from './natsStreams.js';

/** Settings of a merger session. */
export interface MergerSessionOptions {
  /** The server redelivers a delta this long after delivering it when it was not acknowledged. */
  ackWaitMs: number;
  /** Deltas asked for per pull request. */
  batch: number;
  /** Bytes asked for per pull request (the server stops a batch before it would exceed them). */
  maxBytes: number;
  /** How long a pull request or an acknowledgement may wait for the server. */
  timeoutMs: number;
}

/** The merger's side of the deltas stream for one session: its own consumer, and the deliveries it holds. */
export interface MergerSession {
  /** The consumer's name (`merger-<random>`). */
  readonly consumer: string;
  /** Everything the consumer delivers now (batches until the server says there is no more); ids are stream sequences. */
  pull(): Promise<Arrival[]>;
  /** Acknowledges (confirmed by the server) the deliveries named; ids unknown to this session are ignored. */
  ack(ids: string[]): Promise<void>;
}

/** The stream sequence in a JetStream acknowledgement subject (old 9-token and new 12-token forms). */
export function streamSequenceOf(reply: string): number {
  const t = reply.split('.');
  const seq = t.length === 9 ? t[5] : t[7];
  if (t[0] !== '$JS' || t[1] !== 'ACK' || (t.length !== 9 && t.length < 11) || !/^\d+$/.test(seq ?? '')) {
    throw new FramelogError(`nats pull: ${JSON.stringify(reply)} is no JetStream acknowledgement subject`, 'nats-pull-failed');
  }
  return Number(seq);
}

/**
 * Starts a merger session: deletes every consumer of the deltas stream (a WorkQueue stream takes
 * one unfiltered consumer; a dead merger's consumer still holds its unacknowledged deliveries until
 * their ack wait runs out) and creates a fresh durable pull consumer `merger-<random>`
 * (AckExplicit, deliver all). On a WorkQueue stream the acknowledged deltas are already gone, so the
 * fresh consumer delivers exactly those not yet acknowledged, at once. The old session's consumer is
 * gone: a merger that lost its lease can neither pull nor acknowledge through it anymore.
 */
export async function startMergerSession(nc: NatsConnection, jsm: JetStreamManager, names: NatsNames, o: MergerSessionOptions): Promise<MergerSession> {
  const stream = names.deltasStream;
  const old: string[] = [];
  for await (const ci of jsm.consumers.list(stream)) old.push(ci.name);
  for (const name of old) {
    try {
      await jsm.consumers.delete(stream, name);
    } catch (e) {
      if (jsErrorCode(e) !== JS_CODES.consumerNotFound) throw e;
    }
  }
  const consumer = `merger-${randomBytes(6).toString('hex')}`;
  await jsm.consumers.add(stream, {
    durable_name: consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(o.ackWaitMs),
    max_ack_pending: 1_000_000,
  });
  /** Stream sequence → the acknowledgement subject of its latest delivery. */
  const replies = new Map<string, string>();
  const nextSubject = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;

  /** One pull request (`no_wait`): what the consumer has now, and whether to ask again. */
  const pullOnce = (): Promise<{ msgs: Msg[]; more: boolean }> =>
    new Promise((resolve, reject) => {
      const inbox = createInbox();
      const msgs: Msg[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      let over = false;
      const finish = (err: Error | undefined, more = false): void => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        sub.unsubscribe();
        if (err) reject(err);
        else resolve({ msgs, more });
      };
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(new FramelogError(`nats pull from ${stream} consumer ${consumer}: no answer within ${o.timeoutMs} ms`, 'nats-pull-failed')), o.timeoutMs);
      };
      const sub = nc.subscribe(inbox, {
        callback: (err, m) => {
          if (err) return finish(new FramelogError(`nats pull from ${stream} consumer ${consumer}: ${err.message}`, 'nats-pull-failed'));
          const code = m.headers?.code ?? 0;
          if (code === 0) {
            msgs.push(m);
            if (msgs.length >= o.batch) finish(undefined, true);
            else arm();
            return;
          }
          const what = m.headers?.description ?? '';
          if (code === 404 || code === 408) return finish(undefined); // nothing more now
          if (code === 409 && /max ?bytes/i.test(what) && msgs.length > 0) return finish(undefined, true); // the batch is full by size
          if (code === 100) return arm(); // a heartbeat
          finish(new FramelogError(`nats pull from ${stream} consumer ${consumer}: server status ${code} ${what}${code === 503 ? ' (the consumer is gone: did another merger take over?)' : ''}`, 'nats-pull-failed'));
        },
      });
      nc.publish(nextSubject, JSON.stringify({ batch: o.batch, no_wait: true, max_bytes: o.maxBytes }), { reply: inbox });
      arm();
    });

  return {
    consumer,
    async pull() {
      const out: Arrival[] = [];
      for (;;) {
        const { msgs, more } = await pullOnce();
        for (const m of msgs) {
          const id = String(streamSequenceOf(m.reply ?? ''));
          replies.set(id, m.reply!);
          out.push({ id, bytes: m.data });
        }
        if (!more) return out;
      }
    },
    async ack(ids) {
      const todo = [...new Set(ids)].filter((id) => replies.has(id));
      const settled = await Promise.allSettled(todo.map((id) => nc.request(replies.get(id)!, '+ACK', { timeout: o.timeoutMs })));
      let first: unknown;
      let failed = 0;
      settled.forEach((s, i) => {
        if (s.status === 'fulfilled') replies.delete(todo[i]);
        else {
          failed++;
          first ??= s.reason;
        }
      });
      if (failed > 0) {
        throw new FramelogError(`nats ack on ${stream} consumer ${consumer}: ${failed} of ${todo.length} acknowledgements were not confirmed (first: ${(first as Error)?.message ?? String(first)}); they stay pending and are delivered again`, 'nats-ack-failed');
      }
    },
  };
}
