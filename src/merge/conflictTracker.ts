import { canonicalJson } from '../delta/canonicalJson.js';
import { identityKey } from '../delta/identity.js';
import { compareStamps, compareStrings, type Stamp } from '../delta/stamp.js';
import type { JsonObject, JsonValue } from '../delta/types.js';
import { formatUtc } from '../delta/utcInstant.js';
import type { FieldEntry, ItemEntry } from './mergeState.js';
import { LWW, type CompiledPolicy } from './fieldPolicies.js';
import type { ConflictFormat, ConflictSide, FieldConflict, ItemConflict } from './records.js';

interface FieldPlace {
  type: string;
  id: string;
  field: string;
  base: FieldEntry | undefined;
  writes: FieldEntry[];
  /** Where the place's entry lives after the merge. */
  fields: Map<string, FieldEntry>;
  policy: CompiledPolicy;
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
  /** Identities (`frame/writer/seq`) of the deltas this merge applies. */
  private readonly appliedHere = new Set<string>();

  /** Notes that the merge applies delta `key` (an identity key), before its operations. */
  applying(key: string): void {
    this.appliedHere.add(key);
  }

  /** True when the write stamped `s` belongs to a delta this merge applies. */
  fromThisMerge(s: Stamp): boolean {
    return this.appliedHere.has(identityKey(s));
  }

  /** Notes a field write, before it is applied (`current` is the entry it meets). */
  fieldWrite(type: string, id: string, field: string, fields: Map<string, FieldEntry>, current: FieldEntry | undefined, write: FieldEntry, policy: CompiledPolicy = LWW): void {
    const k = `${type}\u0000${id}\u0000${field}`;
    let place = this.fieldPlaces.get(k);
    if (!place) {
      place = { type, id, field, base: current, writes: [], fields, policy };
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

  /**
   * The field and item conflict records of merge `merge`. Format 2 (PROTOCOL v1.1): items then
   * fields, each by place (`(collection, key)`, `(type, id, field)`, strings by code unit), with the
   * `policy` that chose each field's winner; the caller numbers them. Format 1 (stores before
   * v1.1, which verify recomputes): fields then items, each in first-touch order, no policy.
   */
  records(merge: number, format: ConflictFormat = 2): Array<FieldConflict | ItemConflict> {
    const fields: FieldConflict[] = [];
    const fieldPlaces = [...this.fieldPlaces.values()];
    const itemPlaces = [...this.itemPlaces.values()];
    if (format === 2) {
      fieldPlaces.sort((a, b) => compareStrings(a.type, b.type) || compareStrings(a.id, b.id) || compareStrings(a.field, b.field));
      itemPlaces.sort((a, b) => compareStrings(a.collection, b.collection) || compareStrings(a.key, b.key));
    }
    for (const p of fieldPlaces) {
      const winner = p.fields.get(p.field) as FieldEntry;
      // The common case: one write, and it won.
      if (p.writes.length === 1 && p.writes[0] === winner) continue;
      // A union keeps every write: nothing lost, unless a resolution holds the field.
      if (p.policy.kind === 'union' && !winner.res) continue;
      const wc = winner.canon ?? (winner.canon = canonicalJson(winner.value));
      const losers = p.writes.filter((w) => w !== winner && canonicalJson(w.value) !== wc);
      if (losers.length === 0) continue;
      losers.sort((a, b) => compareStamps(a.stamp, b.stamp));
      fields.push({
        merge, kind: 'field', type: p.type, id: p.id, field: p.field,
        ...(format === 2 ? { policy: winner.res ? 'resolution' : p.policy.spec } : {}),
        ...(p.base ? { base: p.base.value } : {}),
        winner: side(winner.value, winner.stamp),
        losers: losers.map((l) => side(l.value, l.stamp)),
      });
    }
    const items: ItemConflict[] = [];
    for (const p of itemPlaces) {
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
      items.push({
        merge, kind: 'item', collection: p.collection, key: p.key,
        winner: side(winner.item as JsonObject, winner.stamp),
        losers: losers.map((l) => side(l.item, l.stamp)),
      });
    }
    return format === 2 ? [...items, ...fields] : [...fields, ...items];
  }
}
