import { FramelogError } from '../../errors.js';
import { parseTransportKey } from '../transportKey.js';

/** A store name the NATS transport accepts: letters, digits, `_` and `-` (it becomes part of stream, subject and bucket names). */
export const NATS_STORE_NAME = /^[A-Za-z0-9_-]{1,200}$/;

/** Everything one store uses in a NATS account. */
export interface NatsNames {
  store: string;
  /** WorkQueue stream holding the pending deltas: `FRAMELOG_DELTAS_<store>`. */
  deltasStream: string;
  /** The deltas stream's subjects: `framelog.<store>.deltas.>`. */
  deltasSubjects: string;
  /** Limits stream of published merges: `FRAMELOG_MERGES_<store>`. */
  mergesStream: string;
  /** Subject of one message per published merge (the one `Nats-Expected-Last-Subject-Sequence` guards): `framelog.<store>.merges`. */
  mergesSubject: string;
  /** Subject of the leading parts of a merge bundle too big for one message: `framelog.<store>.merges.part`. */
  partsSubject: string;
  /** KV bucket of the merger lease: `framelog_<store>_lease` (its stream is `KV_framelog_<store>_lease`). */
  leaseBucket: string;
  /** The stream behind the lease bucket: `KV_framelog_<store>_lease`. */
  leaseStream: string;
}

/** The key of the lease inside {@link NatsNames.leaseBucket}. */
export const LEASE_KEY = 'merger';

/**
 * Validates `store` and names its streams, subjects and bucket; throws FramelogError `bad-argument`
 * on a bad name. Every stream name starts with a fixed prefix naming its kind, so no store's names
 * can be another's (`FRAMELOG_<store>` and `FRAMELOG_<store>_MERGES` would collide: the deltas of
 * store `a_MERGES` against the merges of store `a`). `-` needs no mapping: NATS accepts it in
 * stream, subject and bucket names alike.
 */
export function natsNames(store: string): NatsNames {
  if (typeof store !== 'string' || !NATS_STORE_NAME.test(store)) {
    throw new FramelogError(`nats transport: store name ${JSON.stringify(store)} is not valid (want 1 to 200 letters, digits, _ or -)`, 'bad-argument');
  }
  return {
    store,
    deltasStream: `FRAMELOG_DELTAS_${store}`,
    deltasSubjects: `framelog.${store}.deltas.>`,
    mergesStream: `FRAMELOG_MERGES_${store}`,
    mergesSubject: `framelog.${store}.merges`,
    partsSubject: `framelog.${store}.merges.part`,
    leaseBucket: `framelog_${store}_lease`,
    leaseStream: `KV_framelog_${store}_lease`,
  };
}

/**
 * One subject token from any text: letters, digits, `_` and `-` are kept, every other byte of its
 * UTF-8 becomes `%XX` (so `.`, `*`, `>`, white space and `%` itself never reach the subject). An
 * empty text becomes `%`, which no encoded text is.
 */
export function subjectToken(text: string): string {
  if (text.length === 0) return '%';
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Reverses {@link subjectToken}. */
export function subjectTokenText(token: string): string {
  if (token === '%') return '';
  return decodeURIComponent(token);
}

/**
 * The subject a delta is published on: `framelog.<store>.deltas.<frame>.<writer>` for bytes with an
 * identity (writer encoded by {@link subjectToken}: writer names may hold `.`), and
 * `framelog.<store>.deltas._` for bytes without one (the merger quarantines those). The subject
 * only sorts deltas for people and filters: the merger takes identity and content from the bytes.
 */
export function deltaSubject(names: NatsNames, key: string): string {
  const k = parseTransportKey(key);
  if (k.frame === undefined || k.writer === undefined) return `framelog.${names.store}.deltas._`;
  return `framelog.${names.store}.deltas.${k.frame}.${PLAIN_TOKEN.test(k.writer) ? k.writer : subjectToken(k.writer)}`;
}

/** A text {@link subjectToken} keeps as it is. */
const PLAIN_TOKEN = /^[A-Za-z0-9_-]+$/;
