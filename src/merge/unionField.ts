import { canonicalJson } from '../delta/canonicalJson.js';
import { compareStamps, type Stamp } from '../delta/stamp.js';
import type { JsonValue } from '../delta/types.js';
import type { FieldEntry, UnionElement } from './mergeState.js';

/** Order of a union's elements: the stamp that first wrote each, then its position in that write. */
export const compareElements = (a: UnionElement, b: UnionElement): number => compareStamps(a.stamp, b.stamp) || a.idx - b.idx;

/** The elements a field entry holds: a union's own, or a plain value read as a union written at its stamp. */
function elementsOf(e: FieldEntry): UnionElement[] {
  if (e.union) return e.union;
  const list = Array.isArray(e.value) ? e.value : [e.value];
  return list.map((value, idx) => ({ canon: canonicalJson(value), value, stamp: e.stamp, idx }));
}

/**
 * A `union` field after an ordinary write (PROTOCOL §2a): every element of every array written to
 * it (a non-array value is a one-element array), deduplicated by canonical JSON, ordered by the
 * stamp that first wrote each element, then its position. A function of the set of writes, so it
 * converges. Returns a new entry (`current` keeps the value before, for the conflict record).
 */
export function unionWrite(current: FieldEntry | undefined, value: JsonValue, stamp: Stamp): FieldEntry {
  const byCanon = new Map<string, UnionElement>();
  if (current) for (const e of elementsOf(current)) byCanon.set(e.canon, e);
  const list = Array.isArray(value) ? value : [value];
  for (let idx = 0; idx < list.length; idx++) {
    const el: UnionElement = { canon: canonicalJson(list[idx]), value: list[idx], stamp, idx };
    const held = byCanon.get(el.canon);
    if (!held || compareElements(el, held) < 0) byCanon.set(el.canon, el);
  }
  const union = [...byCanon.values()].sort(compareElements);
  const last = current && compareStamps(current.stamp, stamp) > 0 ? current.stamp : stamp;
  return { value: union.map((e) => e.value), stamp: last, union };
}
