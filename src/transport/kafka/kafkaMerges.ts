import type { Admin, Kafka } from 'kafkajs';
import { FramelogError } from '../../errors.js';
import type { PublishedHead, PublishedMerge } from '../transport.js';
import { inTransaction, isFenced, kafkaErrorText } from './kafkaClient.js';
import { FENCED, type KafkaLease } from './kafkaLease.js';
import type { KafkaNames } from './kafkaNames.js';
import { lastRecord, readTopic, topicBounds, type TopicRecord } from './kafkaRead.js';

/** A bundle goes in parts of at most this many bytes (under the broker's default message size). */
const PART_BYTES = 512 * 1024;

const header = (m: TopicRecord, name: string): string | undefined => m.headers[name];

/** The place in history a merges record carries: index, frame, record hash, and which part of the bundle it is. */
function placeOf(m: TopicRecord): { index: number; frame: number; recordSha256: string; part: number; parts: number } {
  const index = Number(header(m, 'i')), frame = Number(header(m, 'f')), part = Number(header(m, 'p')), parts = Number(header(m, 'n'));
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(frame) || !Number.isSafeInteger(part) || !Number.isSafeInteger(parts)) {
    throw new FramelogError(`kafka merges record at offset ${m.offset} lacks its index, frame or part headers`, 'kafka-unavailable');
  }
  return { index, frame, recordSha256: header(m, 's') ?? '', part, parts };
}

/** The last published merge (the last record of the merges topic), or undefined. */
export async function kafkaPublishedHead(kafka: Kafka, admin: Admin, names: KafkaNames, toEnd = false): Promise<PublishedHead | undefined> {
  const m = await lastRecord(kafka, admin, names.merges, { toEnd });
  if (!m) return undefined;
  const p = placeOf(m);
  return { index: p.index, frame: p.frame, recordSha256: p.recordSha256 };
}

/**
 * Publishes merges in one transaction of the lease's producer: every part of every bundle, or
 * none. The broker refuses the commit of a producer a newer holder fenced (FramelogError
 * `lease-lost`); indexes must follow the published head one by one (else `diverged`).
 */
export async function publishKafkaMerges(kafka: Kafka, admin: Admin, names: KafkaNames, merges: PublishedMerge[], lease: KafkaLease, knownHead?: PublishedHead | null): Promise<PublishedHead | undefined> {
  if (merges.length === 0) return knownHead ?? undefined;
  if (lease.lost.aborted) throw lease.lost.reason;
  // What this holder published last (a commit's markers may not be readable yet), else the topic's tail.
  // Read to the end: this holder bumped the epoch, so the last holder's publications are all
  // committed or aborted, but the markers of its last one may not be written yet.
  const head = knownHead === undefined ? await kafkaPublishedHead(kafka, admin, names, true) : (knownHead ?? undefined);
  const want = (head?.index ?? 0) + 1;
  merges.forEach((m, i) => {
    if (m.index !== want + i) throw new FramelogError(`publishMerges on ${names.merges}: merge index ${m.index} does not follow the published head ${head?.index ?? 0} (want ${want + i}, then consecutive); nothing published`, 'diverged');
  });
  const messages = merges.flatMap((m) => {
    const bundle = Buffer.from(m.bundle);
    const parts = Math.max(1, Math.ceil(bundle.length / PART_BYTES));
    return Array.from({ length: parts }, (_, p) => ({
      partition: 0, key: String(m.index), value: bundle.subarray(p * PART_BYTES, (p + 1) * PART_BYTES),
      headers: { i: String(m.index), f: String(m.frame), s: m.recordSha256, p: String(p), n: String(parts) },
    }));
  });
  try {
    await inTransaction(lease.producer, `publishing on ${names.merges}`, async (txn) => {
      await txn.send({ topic: names.merges, acks: -1, messages });
    });
  } catch (e) {
    if (e instanceof FramelogError) {
      lease.lose(e.message); // a transaction that hung: the producer's state is unknown
      throw e;
    }
    if (isFenced(e)) {
      lease.lose(FENCED);
      throw new FramelogError(`publishMerges on ${names.merges}: token ${lease.token} of ${lease.holder} was fenced by a newer merger; nothing published`, 'lease-lost');
    }
    // Any other failure (a connection closed mid-commit, a broker's error) leaves the producer's
    // transaction in a state the client cannot leave ("Cannot call beginTransaction in state
    // COMMITTING"): give the lease up, so the next holder's producer, this merger's again, bumps the
    // epoch, which aborts what is left, instead of failing every publication until the lease ends.
    const why = `publishMerges on ${names.merges}: ${kafkaErrorText(e)}`;
    lease.lose(why);
    throw new FramelogError(why, 'kafka-unavailable');
  }
  const last = merges[merges.length - 1];
  return { index: last.index, frame: last.frame, recordSha256: last.recordSha256 };
}

/** The published merges with `index ≥ fromIndex`, in index order, each bundle joined from its parts. */
export async function* readKafkaMerges(kafka: Kafka, admin: Admin, names: KafkaNames, fromIndex: number): AsyncIterable<PublishedMerge> {
  let parts: Buffer[] = [];
  for await (const m of readTopic(kafka, admin, names.merges, 0n)) {
    const p = placeOf(m);
    if (p.index < fromIndex) continue;
    if (p.part === 0) parts = [];
    parts.push(m.value);
    if (p.part === p.parts - 1) {
      yield { index: p.index, frame: p.frame, recordSha256: p.recordSha256, bundle: Buffer.concat(parts) };
      parts = [];
    }
  }
}

/**
 * Deletes the published merges with `index < keepFromIndex` (`DeleteRecords` up to the first
 * record of the first merge kept), the head excepted; returns how many merges went.
 */
export async function trimKafkaMerges(kafka: Kafka, admin: Admin, names: KafkaNames, keepFromIndex: number): Promise<number> {
  const head = await kafkaPublishedHead(kafka, admin, names);
  if (!head) return 0;
  const keep = Math.max(1, Math.min(Math.floor(keepFromIndex), head.index));
  let cut: bigint | undefined;
  let first: number | undefined;
  for await (const m of readTopic(kafka, admin, names.merges, 0n)) {
    const p = placeOf(m);
    first ??= p.index;
    if (p.index >= keep) {
      cut = m.offset;
      break;
    }
  }
  if (cut === undefined || first === undefined || first >= keep) return 0;
  await admin.deleteTopicRecords({ topic: names.merges, partitions: [{ partition: 0, offset: String(cut) }] });
  return keep - first;
}

export { topicBounds };
