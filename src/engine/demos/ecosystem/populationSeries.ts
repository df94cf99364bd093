import type { EventRecord } from '../../../merge/records.js';
import type { RunView } from '../../run/RunView.js';
import { SPECIES } from './ecosystemSimulation.js';

/** Per-region population series: `series[region][species][i]` is the count after `frames[i]`. */
export interface PopulationSeries {
  frames: number[];
  regions: string[];
  species: string[];
  series: Record<string, Record<string, number[]>>;
}

const POP = /^pop\.([^.]+)\.([^.]+)$/;

/** Reads the series from the state after every frame (one replay over the history). */
export async function populationSeries(run: RunView): Promise<PopulationSeries> {
  const out: PopulationSeries = { frames: [], regions: [], species: [...SPECIES], series: {} };
  await run.replay(0, undefined, ({ frame, state }) => {
    const i = out.frames.length;
    out.frames.push(frame);
    for (const [name, value] of Object.entries(state.counters)) {
      const m = POP.exec(name);
      if (!m) continue;
      const [, region, sp] = m;
      const byRegion = (out.series[region] ??= {});
      const list = (byRegion[sp] ??= []);
      while (list.length < i) list.push(0);
      list.push(value);
    }
  });
  out.regions = Object.keys(out.series).sort();
  for (const r of out.regions) for (const sp of out.species) {
    const list = (out.series[r][sp] ??= []);
    while (list.length < out.frames.length) list.push(0);
  }
  return out;
}

/** The series as CSV (`frame,region,species,count`), for any plotting tool. */
export function seriesCsv(s: PopulationSeries): string {
  const lines = ['frame,region,species,count'];
  s.frames.forEach((f, i) => {
    for (const r of s.regions) for (const sp of s.species) lines.push(`${f},${r},${sp},${s.series[r][sp][i]}`);
  });
  return lines.join('\n') + '\n';
}

/**
 * Rebuilds the series from the event log alone (seeded + births − deaths ± migrations) and
 * returns the first place it disagrees with `s`, or undefined when every count reconciles.
 */
export function reconcileWithEvents(s: PopulationSeries, events: Iterable<EventRecord>): string | undefined {
  const byFrame = new Map<number, EventRecord[]>();
  for (const e of events) {
    let l = byFrame.get(e.frame);
    if (!l) byFrame.set(e.frame, (l = []));
    l.push(e);
  }
  const pop = new Map<string, number>();
  const add = (region: unknown, sp: unknown, by: number): void => {
    const k = `${String(region)}.${String(sp)}`;
    pop.set(k, (pop.get(k) ?? 0) + by);
  };
  for (let i = 0; i < s.frames.length; i++) {
    for (const { event: e } of byFrame.get(s.frames[i]) ?? []) {
      const c = Number(e.count);
      if (e.type === 'seeded' || e.type === 'births') add(e.region, e.species, c);
      else if (e.type === 'deaths') add(e.region, e.species, -c);
      else if (e.type === 'migration') {
        add(e.origin, e.species, -c);
        add(e.destination, e.species, c);
      }
    }
    for (const r of s.regions) for (const sp of s.species) {
      const want = s.series[r][sp][i], have = pop.get(`${r}.${sp}`) ?? 0;
      if (want !== have) return `frame ${s.frames[i]}: ${r} ${sp}: state says ${want}, events say ${have}`;
    }
  }
  return undefined;
}
