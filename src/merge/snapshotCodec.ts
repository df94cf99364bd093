import type { Stamp } from '../delta/stamp.js';
import type { JsonObject, JsonValue } from '../delta/types.js';
import { canonicalJson } from '../delta/canonicalJson.js';
import { createMergeState, type FieldEntry, type ItemEntry, type MergeState } from './mergeState.js';

/** A stamp as snapshots store it: `[frame, utcMs, writer, seq, pos]`. */
export type StampTuple = [number, number, string, number, number];

/**
 * A snapshot (`snapshots/frame-N.json`): the state after merge N with every stamp, so the merge
 * engine can continue from it. A cache: delete it and it is rebuilt from the journal and archive.
 */
export interface Snapshot {
  frame: number;
  /** SHA-256 of the merge record's line this snapshot follows: anchors the journal's last record. */
  record_sha256?: string;
  items: Record<string, Array<[key: string, stamp: StampTuple, item: JsonObject]>>;
  counters: Record<string, number>;
  entities: Record<string, Record<string, Record<string, [value: JsonValue, stamp: StampTuple]>>>;
}

const toTuple = (s: Stamp): StampTuple => [s.frame, s.utcMs, s.writer, s.seq, s.pos];
const fromTuple = (t: StampTuple): Stamp => ({ frame: t[0], utcMs: t[1], writer: t[2], seq: t[3], pos: t[4] });
const dict = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;

/** Encodes a merge state (not its redelivery index) as a snapshot. */
export function encodeSnapshot(s: MergeState): Snapshot {
  if (s.frame === null) throw new Error('cannot snapshot the state before the first merge');
  const items = dict<Snapshot['items'][string]>();
  for (const [c, coll] of s.items) items[c] = coll.order.map((e) => [e.key, toTuple(e.stamp), e.item]);
  const counters = dict<number>();
  for (const [k, v] of s.counters) counters[k] = v;
  const entities = dict<Snapshot['entities'][string]>();
  for (const [t, byId] of s.entities) {
    const outT = dict<Record<string, [JsonValue, StampTuple]>>();
    for (const [id, fields] of byId) {
      const outF = dict<[JsonValue, StampTuple]>();
      for (const [f, e] of fields) outF[f] = [e.value, toTuple(e.stamp)];
      outT[id] = outF;
    }
    entities[t] = outT;
  }
  return { frame: s.frame, items, counters, entities };
}

/** Decodes a snapshot into a merge state (with an empty redelivery index). */
export function decodeSnapshot(snap: Snapshot): MergeState {
  const s = createMergeState();
  s.frame = snap.frame;
  for (const c of Object.keys(snap.items)) {
    const order: ItemEntry[] = snap.items[c].map(([key, st, item]) => ({ key, item, stamp: fromTuple(st) }));
    s.items.set(c, { order, byKey: new Map(order.map((e) => [e.key, e])) });
  }
  for (const k of Object.keys(snap.counters)) s.counters.set(k, snap.counters[k]);
  for (const t of Object.keys(snap.entities)) {
    const byId = new Map<string, Map<string, FieldEntry>>();
    for (const id of Object.keys(snap.entities[t])) {
      const fields = new Map<string, FieldEntry>();
      const src = snap.entities[t][id];
      for (const f of Object.keys(src)) fields.set(f, { value: src[f][0], stamp: fromTuple(src[f][1]) });
      byId.set(id, fields);
    }
    s.entities.set(t, byId);
  }
  return s;
}

const sortedKeys = <V>(m: Map<string, V>): string[] => [...m.keys()].sort();
const stampText = (s: Stamp): string => `[${s.frame},${s.utcMs},${JSON.stringify(s.writer)},${s.seq},${s.pos}]`;

/**
 * The canonical JSON of a state's snapshot (equal to `canonicalJson(encodeSnapshot(s))` with
 * `record_sha256` set), built from cached fragments: one pass over the state's bytes.
 */
export function snapshotJson(s: MergeState, recordSha256: string | null): string {
  if (s.frame === null) throw new Error('cannot snapshot the state before the first merge');
  const parts: string[] = ['{"counters":{'];
  sortedKeys(s.counters).forEach((k, i) => parts.push((i ? ',' : '') + JSON.stringify(k) + ':' + JSON.stringify(s.counters.get(k))));
  parts.push('},"entities":{');
  sortedKeys(s.entities).forEach((t, i) => {
    const byId = s.entities.get(t)!;
    parts.push((i ? ',' : '') + JSON.stringify(t) + ':{');
    sortedKeys(byId).forEach((id, j) => {
      const fields = byId.get(id)!;
      parts.push((j ? ',' : '') + JSON.stringify(id) + ':{');
      sortedKeys(fields).forEach((f, k) => {
        const e = fields.get(f)!;
        parts.push((k ? ',' : '') + JSON.stringify(f) + ':[' + (e.canon ?? (e.canon = canonicalJson(e.value))) + ',' + stampText(e.stamp) + ']');
      });
      parts.push('}');
    });
    parts.push('}');
  });
  parts.push(`},"frame":${s.frame},"items":{`);
  sortedKeys(s.items).forEach((c, i) => {
    parts.push((i ? ',' : '') + JSON.stringify(c) + ':[');
    s.items.get(c)!.order.forEach((e, j) => parts.push((j ? ',' : '') + '[' + JSON.stringify(e.key) + ',' + stampText(e.stamp) + ',' + (e.canon ?? (e.canon = canonicalJson(e.item))) + ']'));
    parts.push(']');
  });
  parts.push('}' + (recordSha256 ? `,"record_sha256":${JSON.stringify(recordSha256)}` : '') + '}');
  return parts.join('');
}
