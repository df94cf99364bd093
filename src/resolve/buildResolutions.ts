import type { Delta, JsonObject, JsonValue } from '../delta/types.js';
import { canonicalJson } from '../delta/canonicalJson.js';
import type { ResolutionWrite } from './chooseWrite.js';

/** One conflict to close, and what to write for it. */
export interface PlannedResolution {
  conflict: string;
  /** The merge that recorded the conflict (a later conflict's choice wins a place two share). */
  merge: number;
  write: ResolutionWrite;
}

/** Who writes the resolutions, when, and what their meta says. */
export interface ResolutionStamp {
  writer: string;
  frame: number;
  utc: string;
  /** The first seq to use; each further delta takes the next. */
  seq: number;
  meta: JsonObject;
  /** Largest delta, in bytes (the plan's maxDeltaBytes): more resolutions go to further deltas. */
  maxBytes: number;
}

/**
 * The resolution deltas (PROTOCOL §2a) that close `planned`: as few as fit `maxBytes`, each an
 * ordinary delta with `resolves` and the writes chosen. Two conflicts of one place (a field or an
 * item key) get the choice of the later conflict.
 */
export function buildResolutions(planned: readonly PlannedResolution[], stamp: ResolutionStamp): Delta[] {
  const ordered = [...planned].sort((a, b) => a.merge - b.merge);
  const out: Delta[] = [];
  let cur: { resolves: string[]; set: Map<string, JsonValue>; items: Map<string, JsonObject>; bytes: number } | undefined;
  const flush = (): void => {
    if (!cur) return;
    const d: Delta = { frame: stamp.frame, writer: stamp.writer, utc: stamp.utc, ...(out.length + stamp.seq > 0 ? { seq: stamp.seq + out.length } : {}) };
    const set: Record<string, Record<string, Record<string, JsonValue>>> = {};
    for (const [k, v] of cur.set) {
      const [type, id, field] = JSON.parse(k) as [string, string, string];
      ((set[type] ??= {})[id] ??= {})[field] = v;
    }
    const items: Record<string, JsonObject[]> = {};
    for (const [k, v] of cur.items) (items[(JSON.parse(k) as [string, string])[0]] ??= []).push(v);
    if (Object.keys(set).length > 0) d.set = set;
    if (Object.keys(items).length > 0) d.items = items;
    d.meta = stamp.meta;
    d.resolves = cur.resolves;
    out.push(d);
    cur = undefined;
  };
  for (const p of ordered) {
    const size = p.conflict.length + 3 + (p.write.kind === 'field' ? canonicalJson(p.write.value).length + p.write.type.length + p.write.id.length + p.write.field.length + 12 : p.write.kind === 'item' ? canonicalJson(p.write.item).length + 2 : 0);
    if (cur && cur.bytes + size > stamp.maxBytes * 0.9) flush();
    cur ??= { resolves: [], set: new Map(), items: new Map(), bytes: 256 + canonicalJson(stamp.meta).length };
    cur.resolves.push(p.conflict);
    cur.bytes += size;
    if (p.write.kind === 'field') cur.set.set(JSON.stringify([p.write.type, p.write.id, p.write.field]), p.write.value);
    else if (p.write.kind === 'item') {
      // One item per key: the later conflict's.
      cur.items.set(JSON.stringify([p.write.collection, p.write.key]), p.write.item);
    }
  }
  flush();
  return out;
}
