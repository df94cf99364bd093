import type { FieldPolicy, Plan } from '../delta/plan.js';
import type { JsonObject, JsonValue } from '../delta/types.js';
import { parseUtcInstant } from '../delta/utcInstant.js';
import { FramelogError } from '../errors.js';
import { compilePolicies, writeWins } from '../merge/fieldPolicies.js';
import { itemKey } from '../merge/itemKey.js';
import type { FieldEntry } from '../merge/mergeState.js';
import type { ConflictSide } from '../merge/records.js';
import { unionWrite } from '../merge/unionField.js';
import type { ConflictEntry } from '../store/history/journalQueries.js';

/**
 * How a resolution decides (PROTOCOL §2a, `framelog resolve`): a value typed by a person, the side
 * of one writer, a policy applied to the sides of the conflict, or `keep` (the merge's winner
 * stands: the conflict closes and nothing is written).
 */
export type ResolveChoice =
  | { value: JsonValue }
  | { winner: string }
  | { policy: FieldPolicy }
  | { keep: true };

/** What a resolution writes for one conflict: a field value, an item, or nothing (`keep`). */
export type ResolutionWrite =
  | { kind: 'field'; type: string; id: string; field: string; value: JsonValue }
  | { kind: 'item'; collection: string; key: string; item: JsonObject }
  | { kind: 'none' };

const sidesOf = (c: ConflictEntry): ConflictSide[] => (c.kind === 'delta' ? [] : [c.winner, ...c.losers]);

/** A conflict side as a field entry (its stamp from the side), so a policy can rank it. */
function entryOf(s: ConflictSide, pos: number): FieldEntry {
  return { value: s.value, stamp: { frame: s.frame, utcMs: parseUtcInstant(s.utc) ?? 0, writer: s.writer, seq: s.seq, pos } };
}

/** The side a policy picks among a conflict's sides (for `union`, the union of their values). */
function byPolicy(c: ConflictEntry, policy: FieldPolicy): JsonValue {
  const sides = sidesOf(c).map(entryOf);
  const compiled = compilePolicies({ t: { f: policy } }).of('t', 'f');
  if (compiled.kind === 'union') {
    let u: FieldEntry | undefined;
    for (const s of [...sides].sort((a, b) => (a.stamp.frame - b.stamp.frame) || (a.stamp.utcMs - b.stamp.utcMs))) u = unionWrite(u, s.value, s.stamp);
    return u!.value;
  }
  let best = sides[0];
  for (const s of sides.slice(1)) if (writeWins(s, best, compiled)) best = s;
  return best.value;
}

/** The value one writer's side of the conflict holds (its latest, if it has several). */
function byWinner(c: ConflictEntry, writer: string): JsonValue {
  const mine = sidesOf(c).filter((s) => s.writer === writer);
  if (mine.length === 0) {
    const who = [...new Set(sidesOf(c).map((s) => s.writer))].join(', ');
    throw new FramelogError(`--winner ${writer}: ${c.conflict} has no side written by ${writer} (its writers: ${who})`, 'bad-argument');
  }
  return mine[mine.length - 1].value;
}

/**
 * What a resolution writes for conflict `c` under `choice`. A delta conflict has no value to
 * choose: the applied copy stays, so only `keep`, or `winner`/`policy` (which keep it), close it.
 * An item written must keep the conflict's natural key under the plan's keys.
 */
export function chooseWrite(c: ConflictEntry, choice: ResolveChoice, plan: Plan): ResolutionWrite {
  if ('keep' in choice) return { kind: 'none' };
  if (c.kind === 'delta') {
    if ('value' in choice) throw new FramelogError(`--value: ${c.conflict} is a delta conflict (two copies of ${c.frame}/${c.writer}/${c.seq}); the applied copy stays, so close it with --keep`, 'bad-argument');
    return { kind: 'none' };
  }
  const value = 'value' in choice ? choice.value : 'winner' in choice ? byWinner(c, choice.winner) : byPolicy(c, choice.policy);
  if (c.kind === 'field') return { kind: 'field', type: c.type, id: c.id, field: c.field, value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FramelogError(`--value: ${c.conflict} is an item conflict in ${c.collection}: the value must be a JSON object (the item)`, 'bad-argument');
  }
  const key = itemKey(plan.keys, c.collection, value);
  if (key !== c.key) throw new FramelogError(`--value: the item's natural key is ${key}, not the conflict's ${c.key} (${c.conflict}): it would add an item instead of replacing one`, 'bad-argument');
  return { kind: 'item', collection: c.collection, key, item: value };
}
