/** Where a dispatch (one life of an agent process) is in one frame. */
export type DispatchPhase = 'working' | 'degraded' | 'idle' | 'crashed';

/** One frame of a dispatch: its phase and the receipts it produced, by status. */
export interface DispatchFrame {
  frame: number;
  phase: DispatchPhase;
  receipts: Record<string, number>;
}

/** One life of one agent, from its start (or restart) in the register to its crash or stop. */
export interface Dispatch {
  /** `agent@from`: unique, since a life starts after the previous one ended. */
  id: string;
  agent: string;
  pid: number | null;
  start: string;
  /** The frame of the start (or restart) record. */
  from: number;
  startTs: string | null;
  /** `crash`, `stop`, or null while it runs. */
  end: string | null;
  /** The frame of the end record, or the last frame with a receipt while it runs. */
  to: number;
  endTs: string | null;
  frames: DispatchFrame[];
}

type Rec = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The per-dispatch timeline: the register's lifecycle records (`{agent, event: start | restart |
 * crash | stop, frame, pid}`) cut each agent's history into lives; the receipts
 * (`{agent, frame, status}`) give each frame of a life its phase: working (every receipt ok),
 * degraded (some rejected or failed), idle (none), crashed (the frame it died in).
 */
export function dispatchTimeline(register: Iterable<Rec>, receipts: Iterable<Rec>): Dispatch[] {
  const out: Dispatch[] = [];
  const open = new Map<string, Dispatch>();
  for (const r of register) {
    const agent = str(r.agent), event = str(r.event), frame = num(r.frame);
    if (r.type !== 'lifecycle' || agent === null || event === null || frame === null) continue;
    if (event === 'start' || event === 'restart') {
      const d: Dispatch = { id: `${agent}@${frame}`, agent, pid: num(r.pid), start: event, from: frame, startTs: str(r.ts), end: null, to: frame, endTs: null, frames: [] };
      out.push(d);
      open.set(agent, d);
    } else {
      const d = open.get(agent);
      if (!d) continue;
      d.end = event;
      d.to = Math.max(d.from, frame);
      d.endTs = str(r.ts);
      open.delete(agent);
    }
  }
  const byAgent = new Map<string, Dispatch[]>();
  for (const d of out) byAgent.set(d.agent, [...(byAgent.get(d.agent) ?? []), d]);
  const counts = new Map<Dispatch, Map<number, Record<string, number>>>();
  for (const r of receipts) {
    const agent = str(r.agent), frame = num(r.frame);
    if (agent === null || frame === null) continue;
    const d = byAgent.get(agent)?.find((x) => frame >= x.from && (x.end === null || frame <= x.to));
    if (!d) continue;
    if (d.end === null) d.to = Math.max(d.to, frame);
    const perFrame = counts.get(d) ?? new Map<number, Record<string, number>>();
    counts.set(d, perFrame);
    const c = perFrame.get(frame) ?? {};
    const status = str(r.status) ?? 'unknown';
    c[status] = (c[status] ?? 0) + 1;
    perFrame.set(frame, c);
  }
  for (const d of out) {
    const perFrame = counts.get(d);
    for (let f = d.from; f <= d.to; f++) {
      const receipts = perFrame?.get(f) ?? {};
      const n = Object.values(receipts).reduce((a, b) => a + b, 0);
      const phase: DispatchPhase = d.end === 'crash' && f === d.to ? 'crashed' : n === 0 ? 'idle' : Object.keys(receipts).every((k) => k === 'ok') ? 'working' : 'degraded';
      d.frames.push({ frame: f, phase, receipts });
    }
  }
  return out;
}
