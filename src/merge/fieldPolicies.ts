import { canonicalJson } from '../delta/canonicalJson.js';
import type { FieldPolicy, PolicyMap } from '../delta/plan.js';
import { compareStamps, compareStrings } from '../delta/stamp.js';
import type { JsonValue } from '../delta/types.js';
import type { FieldEntry } from './mergeState.js';

/** A field policy ready for the merge: its kind, its plan spelling, and the priority ranks. */
export interface CompiledPolicy {
  kind: 'lww' | 'first' | 'max' | 'min' | 'union' | 'priority';
  /** As the plan spells it (what a conflict record names). */
  spec: FieldPolicy;
  /** For `priority`: exact writer → rank, and prefixes (without `*`) in listed order. */
  exact?: Map<string, number>;
  prefixes?: Array<[prefix: string, rank: number]>;
  /** For `priority`: the rank of an unlisted writer. */
  last?: number;
  /** For `priority`: ranks already worked out, per writer (writers are few; a merge asks often). */
  ranks?: Map<string, number>;
}

/** The plan's policies, compiled: the policy of each `(type, field)`. */
export interface FieldPolicies {
  /** The policy of a field (`lww` when the plan names none). */
  of(type: string, field: string): CompiledPolicy;
  /** True when every field is `lww` (the merge's fast path). */
  readonly allLww: boolean;
}

/** The default policy: the later stamp wins (PROTOCOL §2 rule 3). */
export const LWW: CompiledPolicy = Object.freeze({ kind: 'lww', spec: 'lww' }) as CompiledPolicy;

function compileOne(p: FieldPolicy): CompiledPolicy {
  if (typeof p === 'string') return p === 'lww' ? LWW : { kind: p, spec: p };
  const exact = new Map<string, number>();
  const prefixes: Array<[string, number]> = [];
  p.priority.forEach((w, i) => {
    if (w.endsWith('*')) prefixes.push([w.slice(0, -1), i]);
    else if (!exact.has(w)) exact.set(w, i);
  });
  return { kind: 'priority', spec: p, exact, prefixes, last: p.priority.length, ranks: new Map() };
}

/** Every field `lww`: what a plan without `policies` gives. */
export const ALL_LWW: FieldPolicies = Object.freeze({ of: () => LWW, allLww: true });

/** Compiles a plan's `policies` (PROTOCOL §2a) for the merge. */
export function compilePolicies(map: PolicyMap | undefined): FieldPolicies {
  if (!map || Object.keys(map).length === 0) return ALL_LWW;
  const byType = new Map<string, { fields: Map<string, CompiledPolicy>; star: CompiledPolicy }>();
  for (const type of Object.keys(map)) {
    const fields = new Map<string, CompiledPolicy>();
    let star = LWW;
    for (const field of Object.keys(map[type])) {
      const c = compileOne(map[type][field]);
      if (field === '*') star = c;
      else fields.set(field, c);
    }
    byType.set(type, { fields, star });
  }
  return {
    allLww: false,
    of(type, field) {
      const t = byType.get(type);
      return t === undefined ? LWW : (t.fields.get(field) ?? t.star);
    },
  };
}

/** The rank of `writer` under a priority policy: lower ranks first. */
function rankOf(p: CompiledPolicy, writer: string): number {
  const known = p.ranks!.get(writer);
  if (known !== undefined) return known;
  const e = p.exact!.get(writer);
  let best = e ?? p.last!;
  for (const [prefix, rank] of p.prefixes!) {
    if (rank >= best) break;
    if (writer.startsWith(prefix)) best = rank;
  }
  if (p.ranks!.size < 65_536) p.ranks!.set(writer, best);
  return best;
}

const canonOf = (e: FieldEntry): string => e.canon ?? (e.canon = canonicalJson(e.value));
const classOf = (v: JsonValue): number => (typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);

/**
 * Orders two values for `max` / `min` (PROTOCOL §2a): numbers by value, below any string; strings
 * by code unit; anything else (booleans, null, arrays, objects) above both, by canonical JSON text.
 */
export function compareValues(a: FieldEntry, b: FieldEntry): number {
  const ca = classOf(a.value), cb = classOf(b.value);
  if (ca !== cb) return ca - cb;
  if (ca === 0) return (a.value as number) - (b.value as number);
  if (ca === 1) return compareStrings(a.value as string, b.value as string);
  return compareStrings(canonOf(a), canonOf(b));
}

/**
 * True when `write` takes the field from `stored` (PROTOCOL §2a): a resolution's write outranks
 * any other (among resolutions the later stamp wins); otherwise the field's policy decides, ties
 * going to the later stamp. Never called for an ordinary write to a `union` field.
 */
export function writeWins(write: FieldEntry, stored: FieldEntry, p: CompiledPolicy): boolean {
  const wr = write.res === true, sr = stored.res === true;
  if (wr !== sr) return wr;
  const later = compareStamps(write.stamp, stored.stamp) > 0;
  if (wr) return later;
  switch (p.kind) {
    case 'lww':
    case 'union': // a union field that a resolution once held: ordinary writes lose to it above
      return later;
    case 'first':
      return !later;
    case 'max': {
      const c = compareValues(write, stored);
      return c > 0 || (c === 0 && later);
    }
    case 'min': {
      const c = compareValues(write, stored);
      return c < 0 || (c === 0 && later);
    }
    case 'priority': {
      const rw = rankOf(p, write.stamp.writer), rs = rankOf(p, stored.stamp.writer);
      return rw < rs || (rw === rs && later);
    }
  }
}

const compiled = new WeakMap<object, FieldPolicies>();

/** The compiled policies of a plan (cached per plan object). */
export function policiesOf(plan: { policies?: PolicyMap }): FieldPolicies {
  let p = compiled.get(plan);
  if (!p) compiled.set(plan, (p = compilePolicies(plan.policies)));
  return p;
}
