/**
 * Ecosystem: regions on a ring (with a few long chords), each holding grass, rabbits and foxes.
 * Each frame, every region's owner shard grows and thins its populations (rabbits eat grass,
 * foxes eat rabbits) and sends groups of animals to neighbouring regions — often regions another
 * shard owns. Populations are counters (`pop.REGION.SPECIES`): counters sum, so a departure
 * (−k here) and an arrival (+k there) written by different shards in one frame merge exactly.
 * Every migration is an event `{type: 'migration', origin, destination, id, cost, species, count}`;
 * births and deaths are events too, so the whole series can be rebuilt from the event log.
 *
 * The rates are tuned so that predators and prey persist (seeds 1–12 of the default run, 24
 * regions, 8 shards, 300 frames: no species dies out; after frame 30 there were never fewer than 34
 * foxes or 159 rabbits in all): a fox colony grows while its region holds more than about 60
 * rabbits, which grass can feed. Births and deaths are whole
 * animals drawn around their expected number (stochastic rounding): with plain rounding a colony
 * of two foxes never bred (0.4 births a frame rounds to 0) and every colony died out by frame 140.
 */
import type { JsonObject } from '../../../delta/types.js';
import type { Simulation } from '../../simulation/Simulation.js';

/** Parameters of the ecosystem demo. */
export interface EcosystemParams extends JsonObject {
  /** Number of regions. */
  regions: number;
  /** Chance per frame that a region sends a group of one species away. */
  migrationChance: number;
}

/** The species of the demo, in food-chain order. */
export const SPECIES = ['grass', 'rabbit', 'fox'] as const;
/** A species of the demo. */
export type Species = (typeof SPECIES)[number];

/** The name of region `i` (`r07`). */
export const regionName = (i: number): string => `r${String(i).padStart(2, '0')}`;
/** The counter holding `species` in `region`. */
export const popCounter = (region: string, species: string): string => `pop.${region}.${species}`;

/** The regions next to region `i` of `n`: both ring neighbours and one chord across. */
export function neighbours(i: number, n: number): number[] {
  const out = new Set([(i + 1) % n, (i + n - 1) % n, (i + Math.max(2, Math.floor(n / 3))) % n]);
  out.delete(i);
  return [...out].sort((a, b) => a - b);
}

/** Ring distance between regions (the chord counts as its ring distance: a long, costly trip). */
const ringDistance = (a: number, b: number, n: number): number => Math.min(Math.abs(a - b), n - Math.abs(a - b));

/** A whole number of animals around `x` (0 below 0): ⌊x⌋, plus one with the chance of x's fraction, so the mean is x. */
const whole = (x: number, rng: { chance(p: number): boolean }): number => {
  if (!(x > 0)) return 0;
  const floor = Math.floor(x);
  return floor + (rng.chance(x - floor) ? 1 : 0);
};

export const ecosystemSimulation: Simulation<EcosystemParams> = {
  name: 'ecosystem',
  params: { regions: 24, migrationChance: 0.35 },
  plan: { snapshotEvery: 50 },
  initialState(ctx) {
    for (let i = 0; i < ctx.params.regions; i++) {
      if (!ctx.owns(i)) continue;
      const region = regionName(i);
      const climate = Math.round(ctx.rng.range(60, 140)) / 100;
      ctx.set('region', region, { index: i, climate, neighbours: neighbours(i, ctx.params.regions).map(regionName) });
      const start: Record<Species, number> = { grass: ctx.rng.range(300, 900), rabbit: ctx.rng.range(20, 120), fox: ctx.rng.range(0, 15) };
      for (const sp of SPECIES) {
        ctx.incr(popCounter(region, sp), start[sp]);
        ctx.emit({ type: 'seeded', region, species: sp, count: start[sp] });
      }
    }
  },
  tick(ctx, state, frame) {
    const n = ctx.params.regions, rng = ctx.rng;
    for (let i = 0; i < n; i++) {
      if (!ctx.owns(i)) continue;
      const region = regionName(i);
      const climate = (state.entities.region?.[region]?.climate as number | undefined) ?? 1;
      const pop = (sp: Species): number => state.counters[popCounter(region, sp)] ?? 0;
      const g = pop('grass'), r = pop('rabbit'), f = pop('fox');
      const k = 1000 * climate;
      const change: Record<Species, { births: number; deaths: number }> = {
        grass: { births: whole(0.3 * g * (1 - g / k) + rng.normal(0, 3), rng), deaths: Math.min(g, whole((0.9 * r * g) / (g + 250), rng)) },
        rabbit: { births: whole((0.45 * r * g) / (g + 400) + rng.normal(0, 1), rng), deaths: Math.min(r, whole(0.06 * r + (0.35 * f * r) / (r + 60), rng)) },
        fox: { births: whole((0.27 * f * r) / (r + 90), rng), deaths: Math.min(f, whole(0.12 * f + rng.normal(0, 0.5), rng)) },
      };
      for (const sp of SPECIES) {
        const { births, deaths } = change[sp];
        let net = births - deaths;
        if (births > 0) ctx.emit({ type: 'births', region, species: sp, count: births });
        if (deaths > 0) ctx.emit({ type: 'deaths', region, species: sp, count: deaths });
        const survivors = pop(sp) - deaths;
        if (sp !== 'grass' && survivors > 1 && rng.chance(ctx.params.migrationChance)) {
          const count = Math.max(1, Math.floor((survivors * rng.range(5, 25)) / 100));
          const to = rng.pick(neighbours(i, n))!;
          const destination = regionName(to);
          const cost = Math.round(ringDistance(i, to, n) * count * (sp === 'fox' ? 2.5 : 1) * 100) / 100;
          ctx.emit({ type: 'migration', origin: region, destination, id: `m-${frame}-${region}-${sp}`, cost, species: sp, count });
          ctx.incr(popCounter(destination, sp), count);
          ctx.incr('migrations').incr('migrants', count).incr('migration_cost', cost);
          net -= count;
        }
        if (net !== 0) ctx.incr(popCounter(region, sp), net);
      }
    }
  },
};

export default ecosystemSimulation;
