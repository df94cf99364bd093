import { canonicalJson } from '../delta/canonicalJson.js';
import { compareStamps, type Stamp } from '../delta/stamp.js';
import type { JsonObject, JsonValue } from '../delta/types.js';
import { formatUtc } from '../delta/utcInstant.js';
import type { FieldEntry, ItemEntry } from './mergeState.js';
import type { ConflictRecord, ConflictSide } from './records.js';

interface FieldPlace {
  type: string;
  id: string;
  field: string;
  base: FieldEntry | undefined;
  writes: FieldEntry[];
  /** Where the place's entry lives after the merge. */
  fields: Map<string, FieldEntry>;
}

interface ItemPlace {
  collection: string;
  key: string;
  losers: ItemEntry[];
  byKey: Map<string, ItemEntry>;
}

const side = (value: JsonValue, s: Stamp): ConflictSide => ({ value, frame: s.frame, utc: formatUtc(s.utcMs), writer: s.writer, seq: s.seq });

/**
 * Watches one merge's writes and produces its conflict records: one per place (field or item
 * key) that saw a disagreement, with base, winner and every loser (PROTOCOL §2).
 */
export class ConflictTracker {
  private readonly fieldPlaces = new Map<string, FieldPlace>();
  private readonly itemPlaces = new Map<string, ItemPlace>();

  /** Notes a field write, before it is applied (`current` is the entry it meets). */
  fieldWrite(type: string, id: string, field: string, fields: Map<string, FieldEntry>, current: FieldEntry | undefined, write: FieldEntry): void {
    const k = `${type}\u0000${id}\u0000${field}`;
    let place = this.fieldPlaces.get(k);
    if (!place) {
      place = { type, id, field, base: current, writes: [], fields };
      this.fieldPlaces.set(k, place);
    }
    place.writes.push(write);
  }

  /** Notes an item that lost to the stored item of the same key (or was displaced by an earlier stamp). */
  itemLoser(collection: string, key: string, byKey: Map<string, ItemEntry>, loser: ItemEntry): void {
    const k = `${collection}\u0000${key}`;
    let place = this.itemPlaces.get(k);
    if (!place) {
      place = { collection, key, losers: [], byKey };
      this.itemPlaces.set(k, place);
    }
    place.losers.push(loser);
  }

  /** The conflict records of merge `merge`, fields first, then items, each in first-touch order. */
  records(merge: number): ConflictRecord[] {
    const out: ConflictRecord[] = [];
    for (const p of this.fieldPlaces.values()) {
      const winner = p.fields.get(p.field) as FieldEntry;
      // The common case: one write, and it won.
      if (p.writes.length === 1 && p.writes[0] === winner) continue;
      const wc = canonicalJson(winner.value);
      const losers = p.writes.filter((w) => w !== winner && canonicalJson(w.value) !== wc);
      if (losers.length === 0) continue;
      losers.sort((a, b) => compareStamps(a.stamp, b.stamp));
      out.push({
        merge, kind: 'field', type: p.type, id: p.id, field: p.field,
        ...(p.base ? { base: p.base.value } : {}),
        winner: side(winner.value, winner.stamp),
        losers: losers.map((l) => side(l.value, l.stamp)),
      });
    }
    for (const p of this.itemPlaces.values()) {
      const winner = p.byKey.get(p.key) as ItemEntry;
      const wc = winner.canon ?? (winner.canon = canonicalJson(winner.item));
      const seen = new Set<string>();
      const losers: ItemEntry[] = [];
      for (const l of p.losers) {
        const c = l.canon ?? (l.canon = canonicalJson(l.item));
        const id = `${c}\u0000${l.stamp.frame}/${l.stamp.writer}/${l.stamp.seq}/${l.stamp.pos}`;
        if (c === wc || seen.has(id)) continue;
        seen.add(id);
        losers.push(l);
      }
      if (losers.length === 0) continue;
      losers.sort((a, b) => compareStamps(a.stamp, b.stamp));
      out.push({
        merge, kind: 'item', collection: p.collection, key: p.key,
        winner: side(winner.item as JsonObject, winner.stamp),
        losers: losers.map((l) => side(l.item, l.stamp)),
      });
    }
    return out;
  }
}
