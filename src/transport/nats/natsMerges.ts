import { createHash } from 'node:crypto';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type MsgRequest, type StoredMsg } from '@nats-io/jetstream';
import { MsgHdrsImpl, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { FramelogError } from '../../errors.js';
import type { MergerLease, PublishedHead, PublishedMerge } from '../transport.js';
import { checkNatsLease } from './natsLease.js';
import type { NatsNames } from './natsNames.js';
import { JS_CODES, jsErrorCode } from './natsStreams.js';

/** Headers of a published merge (and of the parts of a bundle split over several messages). */
export const MERGE_HEADERS = {
  index: 'Framelog-Index',
  frame: 'Framelog-Frame',
  recordSha256: 'Framelog-Record-Sha256',
  bundleSha256: 'Framelog-Bundle-Sha256',
  part: 'Framelog-Part',
  parts: 'Framelog-Parts',
  partSeqs: 'Framelog-Part-Seqs',
  /** The fencing token of the merger that published the message (every message on `….merges`). */
  fence: 'Framelog-Fence',
  /** `fence` on a takeover marker: no merge, the head's index, frame and record hash copied. */
  kind: 'Framelog-Kind',
} as const;

/** Room left for headers in a part message. */
const PART_HEADROOM = 1024;

/** What the merges stream needs besides the names. */
export interface MergesContext {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: NatsNames;
  /** The server's `max_payload` now. */
  maxPayload(): number;
  timeoutMs: number;
}

/** A published merge's message: its place and where its bundle is. */
interface MergeMeta extends PublishedHead {
  seq: number;
  parts: number;
  partSeqs: number[];
  bundleSha256: string;
  /** The publisher's fencing token (0 on messages from before tokens were written). */
  fence: number;
  /** A takeover marker, not a merge: `index`, `frame`, `recordSha256` are the head's then (index 0: none). */
  marker: boolean;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function metaOf(c: MergesContext, m: { seq: number; header?: MsgHdrs; headers?: MsgHdrs }): MergeMeta {
  const h = m.header ?? m.headers;
  const num = (name: string): number => {
    const v = h?.get(name) ?? '';
    if (!/^-?\d+$/.test(v)) throw new FramelogError(`nats merges: message ${m.seq} of ${c.names.mergesStream} has no valid ${name} header (${JSON.stringify(v)})`, 'bad-bundle');
    return Number(v);
  };
  const seqs = h?.get(MERGE_HEADERS.partSeqs) ?? '';
  const fence = h?.get(MERGE_HEADERS.fence) ?? '';
  return {
    fence: /^\d+$/.test(fence) ? Number(fence) : 0,
    marker: h?.get(MERGE_HEADERS.kind) === 'fence',
    seq: m.seq,
    index: num(MERGE_HEADERS.index),
    frame: num(MERGE_HEADERS.frame),
    recordSha256: h?.get(MERGE_HEADERS.recordSha256) ?? '',
    bundleSha256: h?.get(MERGE_HEADERS.bundleSha256) ?? '',
    parts: num(MERGE_HEADERS.parts),
    partSeqs: seqs === '' ? [] : seqs.split(',').map(Number),
  };
}

/** The last published merge's message, or undefined when none was published. */
async function headMeta(c: MergesContext): Promise<MergeMeta | undefined> {
  const m = await c.jsm.streams.getMessage(c.names.mergesStream, { last_by_subj: c.names.mergesSubject });
  return m ? metaOf(c, m) : undefined;
}

/** The last published merge, or undefined when none was published. */
export async function natsPublishedHead(c: MergesContext): Promise<PublishedHead | undefined> {
  const h = await headMeta(c);
  return h && h.index > 0 ? { index: h.index, frame: h.frame, recordSha256: h.recordSha256 } : undefined;
}

/** FramelogError `lease-lost` when the last message on `….merges` was published under a newer token than `lease`'s. */
function checkFence(c: MergesContext, head: MergeMeta | undefined, lease: MergerLease): void {
  if (head && head.fence > lease.token) {
    throw new FramelogError(`nats publish merges: ${c.names.mergesStream} was last written under fencing token ${head.fence}, newer than ${lease.holder}'s ${lease.token}: another merger took the lease over; nothing published`, 'lease-lost');
  }
}

/**
 * Marks a takeover in the merges stream, right after the lease was acquired: a message on
 * `….merges` with no body, the new holder's fencing token and a copy of the head's index, frame
 * and record hash, published only if the subject's last message is still the one read (expected
 * last subject sequence) and carries no newer token. From then on, a previous holder that passed
 * its lease check just before losing the lease cannot publish: its publication expects the
 * sequence before the marker, and the server refuses it. This makes the fencing check atomic with
 * the publication, which the lease bucket alone (another stream) cannot. Throws `lease-lost` when a
 * newer holder already marked the stream.
 */
export async function natsMarkTakeover(c: MergesContext, lease: MergerLease): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const head = await headMeta(c);
    checkFence(c, head, lease);
    const h = new MsgHdrsImpl();
    h.set(MERGE_HEADERS.kind, 'fence');
    h.set(MERGE_HEADERS.fence, String(lease.token));
    h.set(MERGE_HEADERS.index, String(head?.index ?? 0));
    h.set(MERGE_HEADERS.frame, String(head?.frame ?? 0));
    h.set(MERGE_HEADERS.recordSha256, head?.recordSha256 ?? '');
    h.set(MERGE_HEADERS.parts, '0');
    try {
      await c.js.publish(c.names.mergesSubject, new Uint8Array(0), { headers: h, msgID: `fence:${lease.token}:${head?.seq ?? 0}`, expect: { lastSubjectSequence: head?.seq ?? 0 }, timeout: c.timeoutMs, retries: 3 });
      return;
    } catch (e) {
      // The previous holder's last publication got in between: read the head again.
      if (jsErrorCode(e) !== JS_CODES.wrongLastSequence || attempt >= 5) throw e;
    }
  }
}

/**
 * Publishes one merge. A bundle that fits one message (with its headers) under `max_payload` is
 * one message on `framelog.<store>.merges`; a bigger one is cut into parts published on
 * `….merges.part` (headers index, part, parts), then one message on `….merges` with no body that
 * names their stream sequences (`Framelog-Part-Seqs`). Only the messages on `….merges` count: the
 * last one is the head, and each is published with `Nats-Expected-Last-Subject-Sequence` = the
 * sequence of the previous one, so two mergers can never both publish the same index. Parts whose
 * merge message never came (a crash, a lost race) are left unread. Returns the new message's sequence.
 */
async function publishOne(c: MergesContext, m: PublishedMerge, previousSeq: number, token: number): Promise<number> {
  const h = new MsgHdrsImpl();
  h.set(MERGE_HEADERS.index, String(m.index));
  h.set(MERGE_HEADERS.frame, String(m.frame));
  h.set(MERGE_HEADERS.recordSha256, m.recordSha256);
  h.set(MERGE_HEADERS.bundleSha256, sha256(m.bundle));
  h.set(MERGE_HEADERS.fence, String(token));
  const msgId = `${m.index}:${m.recordSha256}:${token}`;
  const max = c.maxPayload();
  let body = m.bundle;
  h.set(MERGE_HEADERS.parts, '1');
  // Sized with the Nats-Msg-Id and Nats-Expected-Last-Subject-Sequence headers the client adds.
  const whole = body.byteLength + h.encode().byteLength + msgId.length + 96;
  if (whole > max) {
    const size = max - PART_HEADROOM;
    const parts = Math.ceil(m.bundle.byteLength / size);
    const acks = await Promise.all(Array.from({ length: parts }, (_, i) => {
      const ph = new MsgHdrsImpl();
      ph.set(MERGE_HEADERS.index, String(m.index));
      ph.set(MERGE_HEADERS.part, String(i + 1));
      ph.set(MERGE_HEADERS.parts, String(parts));
      return c.js.publish(c.names.partsSubject, m.bundle.subarray(i * size, (i + 1) * size), { headers: ph, msgID: `${msgId}:part${i + 1}`, timeout: c.timeoutMs, retries: 3 });
    }));
    h.set(MERGE_HEADERS.parts, String(parts));
    h.set(MERGE_HEADERS.partSeqs, acks.map((a) => a.seq).join(','));
    body = new Uint8Array(0);
    if (h.encode().byteLength + msgId.length + 96 > max) throw new FramelogError(`nats publish merges: merge ${m.index}'s bundle (${m.bundle.byteLength} bytes) needs ${parts} parts, more than one message can name`, 'too-large');
  }
  const ack = await c.js.publish(c.names.mergesSubject, body, { headers: h, msgID: msgId, expect: { lastSubjectSequence: previousSeq }, timeout: c.timeoutMs, retries: 3 });
  return ack.seq;
}

/**
 * Publishes merges in order (see {@link publishOne}) after the checks of the Transport contract:
 * indexes consecutive and the first one = the published head's + 1 (else FramelogError `diverged`),
 * and the lease key naming `lease.holder` with `lease.token` (else `lease-lost`, nothing written).
 * A publication the server refuses because the head moved meanwhile is `lease-lost` when the lease
 * changed hands, `diverged` otherwise. Each message carries `Nats-Msg-Id` index:record:token, so a
 * repeat after a lost PubAck is absorbed by the server.
 *
 * Fencing: the lease bucket is another stream, so checking it is not atomic with the publication
 * (NATS 2.9 has no transaction over two streams). What is: every message on `….merges` carries its
 * publisher's token, a new holder marks its takeover there first ({@link natsMarkTakeover}), and a
 * publication expects the subject's last sequence it read and refuses a newer token. So a holder
 * whose lease passed on between its check and its publish is refused by the server.
 *
 * Not atomic over several merges: a failure part way leaves the first ones published (the head
 * says how far).
 */
export async function natsPublishMerges(c: MergesContext, merges: PublishedMerge[], lease: MergerLease): Promise<void> {
  if (merges.length === 0) return;
  for (let i = 1; i < merges.length; i++) {
    if (merges[i].index !== merges[i - 1].index + 1) throw new FramelogError(`nats publish merges: indexes are not consecutive (${merges[i - 1].index} then ${merges[i].index})`, 'diverged');
  }
  const head = await headMeta(c);
  const expected = (head?.index ?? 0) + 1;
  if (merges[0].index !== expected) {
    throw new FramelogError(`nats publish merges: merge ${merges[0].index} does not follow the published head (${head ? `merge ${head.index}` : 'none published'}; the next must be ${expected})`, 'diverged');
  }
  checkFence(c, head, lease);
  await checkNatsLease(c.nc, c.names, lease);
  let previousSeq = head?.seq ?? 0;
  for (const m of merges) {
    try {
      previousSeq = await publishOne(c, m, previousSeq, lease.token);
    } catch (e) {
      if (jsErrorCode(e) !== JS_CODES.wrongLastSequence) throw e;
      const now = await headMeta(c);
      checkFence(c, now, lease);
      await checkNatsLease(c.nc, c.names, lease);
      throw new FramelogError(`nats publish merges: merge ${m.index} was refused: the published head moved to merge ${now?.index ?? 0} meanwhile`, 'diverged');
    }
  }
}

/** The bundle of a published merge: its body, or its parts put back together (checked against the bundle's SHA-256). */
async function bundleOf(c: MergesContext, meta: MergeMeta, body: Uint8Array): Promise<Uint8Array> {
  let bundle = body;
  if (meta.parts > 1) {
    if (meta.partSeqs.length !== meta.parts) throw new FramelogError(`nats merges: merge ${meta.index} (message ${meta.seq}) names ${meta.partSeqs.length} part sequences for ${meta.parts} parts`, 'bad-bundle');
    const parts: StoredMsg[] = [];
    for (const seq of meta.partSeqs) {
      const p = await c.jsm.streams.getMessage(c.names.mergesStream, { seq });
      if (!p || p.header.get(MERGE_HEADERS.index) !== String(meta.index) || p.header.get(MERGE_HEADERS.part) !== String(parts.length + 1)) {
        throw new FramelogError(`nats merges: part ${parts.length + 1} of merge ${meta.index} (message ${seq} of ${c.names.mergesStream}) is missing or belongs elsewhere`, 'bad-bundle');
      }
      parts.push(p);
    }
    bundle = Buffer.concat(parts.map((p) => p.data));
  }
  if (meta.bundleSha256 && sha256(bundle) !== meta.bundleSha256) {
    throw new FramelogError(`nats merges: merge ${meta.index}'s bundle (message ${meta.seq} of ${c.names.mergesStream}) does not match its SHA-256`, 'bad-bundle');
  }
  return bundle;
}

/**
 * The stream sequence of the first merge message with `index ≥ fromIndex` (the head's at most),
 * by a binary search over stream sequences: one direct get per step.
 */
async function firstSeqFrom(c: MergesContext, head: MergeMeta, fromIndex: number): Promise<number> {
  const at = async (seq: number): Promise<MergeMeta | undefined> => {
    // The stream's MSG.GET takes next_by_subj since nats-server 2.9; the client's type only names it for direct gets.
    const m = await c.jsm.streams.getMessage(c.names.mergesStream, { seq, next_by_subj: c.names.mergesSubject } as unknown as MsgRequest);
    return m ? metaOf(c, m) : undefined;
  };
  let lo = 1;
  let hi = head.seq;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const m = await at(mid);
    if (m && m.index >= fromIndex) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Deletes the published merges with `index < keepFromIndex`, the head excepted: purges every
 * message of the merges stream below the first kept merge's earliest message (its first part when
 * its bundle was split: parts are published after the merge message before them). Returns how many
 * merges went.
 */
export async function natsTrimMerges(c: MergesContext, keepFromIndex: number): Promise<number> {
  const head = await headMeta(c);
  if (!head) return 0;
  const keep = Math.min(Math.floor(keepFromIndex), head.index);
  const oldest = await c.jsm.streams.getMessage(c.names.mergesStream, { seq: 1, next_by_subj: c.names.mergesSubject } as unknown as MsgRequest);
  const first = oldest ? metaOf(c, oldest) : undefined;
  // A takeover marker copies the index of the merge before it: the oldest merge kept is the next.
  const oldestIndex = first ? first.index + (first.marker ? 1 : 0) : head.index;
  if (keep <= oldestIndex) return 0;
  const seq = await firstSeqFrom(c, head, keep);
  const kept = await c.jsm.streams.getMessage(c.names.mergesStream, { seq });
  if (!kept) throw new FramelogError(`nats merges: merge ${keep}'s message ${seq} of ${c.names.mergesStream} vanished while trimming`, 'bad-bundle');
  try {
    await c.jsm.streams.purge(c.names.mergesStream, { seq: Math.min(seq, ...metaOf(c, kept).partSeqs) });
  } catch (e) {
    if (!/purge not permitted/i.test((e as Error).message)) throw e;
    throw new FramelogError(`nats trim: stream ${c.names.mergesStream} denies purges (it was created with deny_purge by an earlier framelog, and NATS cannot lift it); its published merges cannot be trimmed`, 'not-permitted');
  }
  return keep - oldestIndex;
}

/**
 * The published merges with `index ≥ fromIndex`, in index order. Finds the first one's message by
 * a binary search over stream sequences (one direct get per step), then reads on with an ordered
 * consumer filtered on `framelog.<store>.merges` until it reaches the head as it was when it started
 * (or later).
 */
export async function* natsReadMerges(c: MergesContext, fromIndex: number): AsyncGenerator<PublishedMerge> {
  const head = await headMeta(c);
  if (!head || fromIndex > head.index) return;
  const lo = await firstSeqFrom(c, head, fromIndex);
  const consumer = await c.js.consumers.get(c.names.mergesStream, { filter_subjects: c.names.mergesSubject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lo });
  const messages = await consumer.consume({ max_messages: 16 });
  try {
    let expected: number | undefined;
    for await (const m of messages) {
      const meta = metaOf(c, m);
      if (!meta.marker && meta.index >= fromIndex) {
        if (expected !== undefined && meta.index !== expected) throw new FramelogError(`nats merges: merge ${meta.index} follows merge ${expected - 1} in ${c.names.mergesStream}`, 'bad-bundle');
        expected = meta.index + 1;
        yield { index: meta.index, frame: meta.frame, recordSha256: meta.recordSha256, bundle: await bundleOf(c, meta, m.data) };
      }
      if (meta.seq >= head.seq && m.info.pending === 0) break;
    }
  } finally {
    await messages.close();
  }
}
