import type { EventRecord } from '../../../merge/records.js';

/** One migration as the log lists it. */
export interface Migration {
  frame: number;
  origin: string;
  destination: string;
  id: string;
  cost: number;
  species: string;
  count: number;
  /** The shard that wrote it. */
  writer: string;
}

/** The migration log: exactly the events whose type is `migration`, in journal order. */
export function migrationLog(events: Iterable<EventRecord>): Migration[] {
  const out: Migration[] = [];
  for (const r of events) {
    const e = r.event;
    if (e.type !== 'migration') continue;
    out.push({ frame: r.frame, origin: String(e.origin), destination: String(e.destination), id: String(e.id), cost: Number(e.cost), species: String(e.species), count: Number(e.count), writer: r.writer });
  }
  return out;
}
