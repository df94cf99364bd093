/**
 * Evolution: a population on S islands (one per shard) over hundreds of generations. Each frame
 * is a generation: organisms die (less fit and older ones sooner), survivors breed back toward the
 * island's carrying capacity, children mutate, and a child that has drifted far enough from its
 * species' founder founds a new species. Births, deaths, mutations, speciations and extinctions
 * are events in the deltas; the species table (`entities.species`) is the lineage the simulation
 * records itself. The environment's optimum drifts, so lineages must keep adapting.
 */
import type { JsonObject } from '../../../delta/types.js';
import type { Simulation } from '../../simulation/Simulation.js';
import type { TickContext } from '../../tick/TickContext.js';

/** Parameters of the evolution demo. */
export interface EvolutionParams extends JsonObject {
  /** Organisms across all islands (carrying capacity). */
  size: number;
  /** Genes per genome. */
  genes: number;
  /** Chance that one gene of a child mutates. */
  mutationRate: number;
  /** Genome distance from its species' founder at which a child founds a new species. */
  speciationDistance: number;
  /** Emit one event per mutation (off for big benchmark runs). */
  mutationEvents: boolean;
}

/** An organism as its slot holds it: `[id, species, born, ...genome]`. */
export type Organism = [id: string, species: string, born: number, ...genome: number[]];

/**
 * One island (`entities.island[k]`): its counters of ids, and one field per slot of its carrying
 * capacity, `s0` … `s<capacity−1>`, holding an organism or null (a free slot). A generation writes
 * only the slots whose occupant died or was born, so a frame's delta weighs what changed in it,
 * not the whole population.
 */
export interface Island extends JsonObject {
  next_id: number;
  next_species: number;
}

/** The field of slot `i`. */
export const slotField = (i: number): string => `s${i}`;

/** The organisms of an island, by slot (free slots left out), in slot order. */
export function islandOrganisms(island: JsonObject, capacity: number): Array<{ slot: number; o: Organism }> {
  const out: Array<{ slot: number; o: Organism }> = [];
  for (let i = 0; i < capacity; i++) {
    const o = island[slotField(i)];
    if (Array.isArray(o)) out.push({ slot: i, o: o as unknown as Organism });
  }
  return out;
}

/** One species as the simulation records it (`entities.species[id]`). */
export interface SpeciesRecord extends JsonObject {
  parent: string | null;
  founder: string | null;
  born: number;
  island: number;
  extinct: number | null;
  genome: number[];
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** The environment's optimum for gene `g` at `frame` on island `island`: drifts slowly. */
export function optimum(frame: number, island: number, g: number): number {
  return round(2 * Math.sin(frame / 60 + g * 1.7 + island * 0.9));
}

const distance = (a: number[], b: number[]): number => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));

function capacity(ctx: TickContext<EvolutionParams>): number {
  const { size } = ctx.params, s = ctx.shard.count;
  return Math.floor(size / s) + (ctx.shard.index < size % s ? 1 : 0);
}

export const evolutionSimulation: Simulation<EvolutionParams> = {
  name: 'evolution',
  params: { size: 1000, genes: 4, mutationRate: 0.08, speciationDistance: 2.6, mutationEvents: true },
  initialState(ctx) {
    const k = ctx.shard.index, n = capacity(ctx);
    const species = `${k}.0`;
    const genome = Array.from({ length: ctx.params.genes }, (_, g) => round(optimum(0, k, g) + ctx.rng.normal(0, 0.3)));
    const fields: JsonObject = { next_id: n, next_species: 1 } satisfies Island;
    for (let i = 0; i < n; i++) fields[slotField(i)] = [`${k}-${i}`, species, 0, ...genome.map((x) => round(x + ctx.rng.normal(0, 0.1)))];
    ctx.set('island', String(k), fields);
    ctx.set('species', species, { parent: null, founder: null, born: 0, island: k, extinct: null, genome } satisfies SpeciesRecord);
    ctx.emit({ type: 'speciation', species, parent_species: null, founder: null, island: k });
    ctx.incr('speciations').incr('births', n);
  },
  tick(ctx, state, frame) {
    const k = ctx.shard.index, p = ctx.params, rng = ctx.rng;
    const island = state.entities.island?.[String(k)] as Island | undefined;
    if (!island) return;
    const cap = capacity(ctx);
    const allSpecies = (state.entities.species ?? {}) as Record<string, SpeciesRecord>;
    const opt = Array.from({ length: p.genes }, (_, g) => optimum(frame, k, g));
    const fitness = (o: Organism): number => Math.exp(-(distance(o.slice(3) as number[], opt) ** 2) / 4);
    let nextId = island.next_id, nextSpecies = island.next_species;
    const before = islandOrganisms(island, cap);
    const alive: Organism[] = [];
    const freed: number[] = [];
    let deaths = 0;
    for (const { slot, o } of before) {
      const age = frame - o[2];
      if (rng.chance(0.04 + 0.3 * (1 - fitness(o)) + (age > 12 ? 0.25 : 0))) {
        ctx.emit({ type: 'death', id: o[0], species: o[1], age });
        freed.push(slot);
        deaths++;
      } else alive.push(o);
    }
    // Free slots, lowest first: those empty before this generation and those its deaths freed.
    const taken = new Set(before.map((b) => b.slot));
    for (const f of freed) taken.delete(f);
    const free: number[] = [];
    for (let i = 0; i < cap; i++) if (!taken.has(i)) free.push(i);
    const births: Organism[] = [];
    const newSpecies: Record<string, SpeciesRecord> = {};
    const room = cap - alive.length;
    const want = Math.min(room, Math.ceil(alive.length * 0.6));
    let mutations = 0;
    for (let i = 0; i < want && alive.length > 0; i++) {
      const a = rng.pick(alive)!, b = rng.pick(alive)!;
      const parent = fitness(a) >= fitness(b) ? a : b; // tournament of two
      const id = `${k}-${nextId++}`;
      const genome = (parent.slice(3) as number[]).map((x, g) => {
        if (!rng.chance(p.mutationRate)) return x;
        const y = round(x + rng.normal(0, 0.35));
        mutations++;
        if (p.mutationEvents) ctx.emit({ type: 'mutation', id, gene: g, from: x, to: y });
        return y;
      });
      let species = parent[1];
      const founderGenome = newSpecies[species]?.genome ?? allSpecies[species]?.genome;
      if (founderGenome && distance(genome, founderGenome) > p.speciationDistance) {
        const child = `${k}.${nextSpecies++}`;
        newSpecies[child] = { parent: species, founder: id, born: frame, island: k, extinct: null, genome };
        ctx.emit({ type: 'speciation', species: child, parent_species: species, founder: id, island: k });
        species = child;
      }
      ctx.emit({ type: 'birth', id, parent: parent[0], species });
      births.push([id, species, frame, ...genome]);
    }
    // Only the slots that changed are written: a birth takes the lowest free slot; a slot whose
    // occupant died and that no birth took becomes null.
    const writes: JsonObject = { next_id: nextId, next_species: nextSpecies };
    for (const f of freed) writes[slotField(f)] = null;
    births.forEach((o, i) => (writes[slotField(free[i])] = o));
    // Extinction: a species of this island with no member left (species never leave their island).
    const living = new Set([...alive, ...births].map((o) => o[1]));
    let extinctions = 0;
    for (const { o } of before) {
      const sp = o[1];
      if (!living.has(sp) && allSpecies[sp] && allSpecies[sp].extinct === null) {
        living.add(sp); // once
        ctx.emit({ type: 'extinction', species: sp, island: k });
        ctx.set('species', sp, 'extinct', frame);
        extinctions++;
      }
    }
    // A new species' founder is a newborn, alive at the end of this generation.
    for (const [id, rec] of Object.entries(newSpecies)) ctx.set('species', id, rec);
    ctx.set('island', String(k), writes);
    ctx.incr('births', births.length).incr('deaths', deaths).incr('mutations', mutations);
    ctx.incr('speciations', Object.keys(newSpecies).length).incr('extinctions', extinctions);
  },
};

export default evolutionSimulation;
