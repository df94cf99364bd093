import type { Stamp } from '../delta/stamp.js';
import type { JsonObject, JsonValue } from '../delta/types.js';
import { canonicalJson } from '../delta/canonicalJson.js';
import { itemKey, type ItemKeys } from './itemKey.js';
import { createMergeState, type FieldEntry, type ItemEntry, type MergeState } from './mergeState.js';

/** A stamp as snapshots store it: `[frame, utcMs, writer, seq, pos]`. */
export type StampTuple = [number, number, string, number, number];
/** The delta part of a stamp, shared by a run of items: `[frame, utcMs, writer, seq]`. */
export type RunStamp = [number, number, string, number];
/**
 * A run of items placed by one delta, in collection order: the delta's stamp, then for each item
 * its position in the delta (or `[pos, key]` when the key is written out) and the item.
 */
export type ItemRun = [RunStamp, ...Array<number | [number, string] | JsonObject>];

/**
 * A snapshot (`snapshots/frame-N.json`): the state after merge N with every stamp, so the merge
 * engine can continue from it. A cache: delete it and it is rebuilt from the journal and archive.
 *
 * Version 2 (`"v": 2`) stores items as runs of one delta each, without their natural keys (the
 * decoder recomputes them from the plan's item keys), so a snapshot weighs about what the state
 * does; `explicit` snapshots (written when the plan's item keys ever changed) keep every key.
 * Version 1 (no `v`) stored `[key, stamp, item]` per item; it is still read.
 */
export interface Snapshot {
  v?: 2;
  frame: number;
  /** SHA-256 of the merge record's line this snapshot follows: anchors the journal's last record. */
  record_sha256?: string;
  items: Record<string, ItemRun[]> | Record<string, Array<[key: string, stamp: StampTuple, item: JsonObject]>>;
  counters: Record<string, number>;
  entities: Record<string, Record<string, Record<string, FieldTuple>>>;
}

/**
 * A field as snapshots store it: `[value, stamp]`; `[value, stamp, 1]` when a resolution wrote it;
 * `[value, stamp, 0, elements]` for a `union` field, with each element's `[...stamp, position]`.
 */
export type FieldTuple = [value: JsonValue, stamp: StampTuple] | [value: JsonValue, stamp: StampTuple, res: 0 | 1, elements?: Array<[...StampTuple, number]>];

const fromTuple = (t: StampTuple): Stamp => ({ frame: t[0], utcMs: t[1], writer: t[2], seq: t[3], pos: t[4] });
const dict = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;
const sameDelta = (a: Stamp, b: Stamp): boolean => a.frame === b.frame && a.utcMs === b.utcMs && a.writer === b.writer && a.seq === b.seq;

/** Decodes a snapshot (version 1 or 2) into a merge state with an empty redelivery index. */
export function decodeSnapshot(snap: Snapshot, keys: ItemKeys): MergeState {
  const s = createMergeState();
  s.frame = snap.frame;
  for (const c of Object.keys(snap.items)) {
    const order: ItemEntry[] = [];
    if (snap.v === 2) {
      for (const run of snap.items[c] as ItemRun[]) {
        const [frame, utcMs, writer, seq] = run[0];
        for (let i = 1; i < run.length; i += 2) {
          const at = run[i] as number | [number, string] | [number, string, StampTuple];
          const item = run[i + 1] as JsonObject;
          const pos = typeof at === 'number' ? at : at[0];
          const key = typeof at === 'number' ? itemKey(keys, c, item) : at[1];
          const place: Stamp = { frame, utcMs, writer, seq, pos };
          // A resolution's item: its own stamp, kept at the place of its key's earliest item.
          if (typeof at !== 'number' && at.length === 3) order.push({ key, item, stamp: fromTuple(at[2]), res: true, at: place });
          else order.push({ key, item, stamp: place });
        }
      }
    } else {
      for (const [key, st, item] of snap.items[c] as Array<[string, StampTuple, JsonObject]>) order.push({ key, item, stamp: fromTuple(st) });
    }
    s.items.set(c, { order, byKey: new Map(order.map((e) => [e.key, e])) });
  }
  for (const k of Object.keys(snap.counters)) s.counters.set(k, snap.counters[k]);
  for (const t of Object.keys(snap.entities)) {
    const byId = new Map<string, Map<string, FieldEntry>>();
    for (const id of Object.keys(snap.entities[t])) {
      const fields = new Map<string, FieldEntry>();
      const src = snap.entities[t][id];
      for (const f of Object.keys(src)) fields.set(f, decodeField(src[f]));
      byId.set(id, fields);
    }
    s.entities.set(t, byId);
  }
  return s;
}

function decodeField(t: FieldTuple): FieldEntry {
  const e: FieldEntry = { value: t[0], stamp: fromTuple(t[1]) };
  if (t[2] === 1) e.res = true;
  if (t[3]) {
    const values = t[0] as JsonValue[];
    e.union = t[3].map((x, i) => ({ canon: canonicalJson(values[i]), value: values[i], stamp: fromTuple(x.slice(0, 5) as StampTuple), idx: x[5] as number }));
  }
  return e;
}

/** A field's tuple text: `[value,stamp]`, with the resolution flag or the union's element stamps. */
function fieldText(e: FieldEntry): string {
  const head = '[' + canonOf(e, e.value) + ',' + stampText(e.stamp);
  if (e.res) return head + ',1]';
  if (e.union) return head + ',0,[' + e.union.map((u) => stampText(u.stamp).slice(0, -1) + ',' + u.idx + ']').join(',') + ']]';
  return head + ']';
}

const sortedKeys = <V>(m: Map<string, V>): string[] => [...m.keys()].sort();
const stampText = (s: Stamp): string => `[${s.frame},${s.utcMs},${JSON.stringify(s.writer)},${s.seq},${s.pos}]`;
const canonOf = (e: { canon?: string }, v: JsonValue): string => e.canon ?? (e.canon = canonicalJson(v));

/** Counters and entities, as both versions write them (ends before `"frame"`). */
function headParts(s: MergeState, parts: string[]): void {
  parts.push('{"counters":{');
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
        parts.push((k ? ',' : '') + JSON.stringify(f) + ':' + fieldText(e));
      });
      parts.push('}');
    });
    parts.push('}');
  });
}

/**
 * A snapshot's canonical text: counters, entities, frame, then each collection as `items` writes
 * it, then the anchor and `tail` (the keys after `record_sha256`, in order).
 */
function snapshotText(s: MergeState, recordSha256: string | null, items: (order: ItemEntry[], parts: string[]) => void, tail: string): string {
  if (s.frame === null) throw new Error('cannot snapshot the state before the first merge');
  const parts: string[] = [];
  headParts(s, parts);
  parts.push(`},"frame":${s.frame},"items":{`);
  sortedKeys(s.items).forEach((c, i) => {
    parts.push((i ? ',' : '') + JSON.stringify(c) + ':');
    items(s.items.get(c)!.order, parts);
  });
  parts.push('}' + (recordSha256 ? `,"record_sha256":${JSON.stringify(recordSha256)}` : '') + tail + '}');
  return parts.join('');
}

/**
 * The canonical JSON of a state's version-2 snapshot (sorted keys, no white space), built from
 * cached fragments in one pass over the state. With `explicitKeys`, every item's key is written.
 */
export function snapshotJson(s: MergeState, recordSha256: string | null, explicitKeys = false): string {
  return snapshotText(s, recordSha256, (order, parts) => {
    parts.push('[');
    let run: Stamp | undefined;
    for (const e of order) {
      // Runs group items by the stamp of their place; a resolution's item also writes its own stamp.
      const place = e.at ?? e.stamp;
      const at = e.res ? `[${place.pos},${JSON.stringify(e.key)},${stampText(e.stamp)}]` : explicitKeys ? `[${place.pos},${JSON.stringify(e.key)}]` : String(place.pos);
      if (run && sameDelta(run, place)) parts.push(',' + at + ',' + canonOf(e, e.item));
      else {
        const st = place;
        parts.push((run ? '],' : '') + `[[${st.frame},${st.utcMs},${JSON.stringify(st.writer)},${st.seq}],` + at + ',' + canonOf(e, e.item));
        run = st;
      }
    }
    parts.push(run ? ']]' : ']');
  }, ',"v":2');
}

/** The canonical JSON of a state's version-1 snapshot (what stores before v2 wrote; verify compares those). */
export function snapshotJsonV1(s: MergeState, recordSha256: string | null): string {
  return snapshotText(s, recordSha256, (order, parts) => {
    parts.push('[');
    order.forEach((e, j) => parts.push((j ? ',' : '') + '[' + JSON.stringify(e.key) + ',' + stampText(e.stamp) + ',' + canonOf(e, e.item) + ']'));
    parts.push(']');
  }, '');
}

/** The state as a plain snapshot object (version 2): `JSON.parse(snapshotJson(s, null))`. */
export function encodeSnapshot(s: MergeState): Snapshot {
  return JSON.parse(snapshotJson(s, null)) as Snapshot;
}
