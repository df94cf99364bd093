import type { State } from '../../../merge/canonicalState.js';
import type { EventRecord } from '../../../merge/records.js';
import type { SpeciesRecord } from './evolutionSimulation.js';

/** One species in the cladogram. */
export interface CladeNode {
  id: string;
  /** The species it split from (null for an island's founding species, whose parent is the root). */
  parent: string | null;
  /** The organism whose birth founded it (null for founding species). */
  founder: string | null;
  born: number;
  extinct: number | null;
  island: number;
  /** Organisms born into it and dead in it (from the event stream; 0 when built from state). */
  births: number;
  deaths: number;
}

/** The lineage tree of species, as of `lastFrame`. */
export interface Cladogram {
  /** The virtual common ancestor of the founding species. */
  root: 'LUCA';
  lastFrame: number;
  /** Sorted by (born, id). */
  nodes: CladeNode[];
}

const byBirth = (a: CladeNode, b: CladeNode): number => a.born - b.born || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Builds the cladogram from the event stream alone (speciation, extinction, birth and death
 * events), never looking at state: the log is the truth.
 */
export function cladogramFromEvents(events: Iterable<EventRecord>, lastFrame: number): Cladogram {
  const nodes = new Map<string, CladeNode>();
  for (const r of events) {
    const e = r.event;
    if (e.type === 'speciation') {
      nodes.set(String(e.species), { id: String(e.species), parent: (e.parent_species as string | null) ?? null, founder: (e.founder as string | null) ?? null, born: r.frame, extinct: null, island: Number(e.island), births: 0, deaths: 0 });
    } else if (e.type === 'extinction') {
      const n = nodes.get(String(e.species));
      if (n) n.extinct = r.frame;
    } else if (e.type === 'birth') {
      const n = nodes.get(String(e.species));
      if (n) n.births++;
    } else if (e.type === 'death') {
      const n = nodes.get(String(e.species));
      if (n) n.deaths++;
    }
  }
  return { root: 'LUCA', lastFrame, nodes: [...nodes.values()].sort(byBirth) };
}

/** The lineage the simulation recorded itself (`entities.species`), in the same shape (no counts). */
export function cladogramFromState(state: State, lastFrame: number): Cladogram {
  const species = (state.entities.species ?? {}) as Record<string, SpeciesRecord>;
  const nodes = Object.entries(species).map(([id, s]): CladeNode => ({ id, parent: s.parent, founder: s.founder, born: s.born, extinct: s.extinct, island: s.island, births: 0, deaths: 0 }));
  return { root: 'LUCA', lastFrame, nodes: nodes.sort(byBirth) };
}

/** Children of each species (and of the root, under `null`), in birth order. */
export function childrenOf(c: Cladogram): Map<string | null, CladeNode[]> {
  const kids = new Map<string | null, CladeNode[]>();
  for (const n of c.nodes) {
    let list = kids.get(n.parent);
    if (!list) kids.set(n.parent, (list = []));
    list.push(n);
  }
  return kids;
}

const quote = (s: string): string => (/^[A-Za-z0-9_.-]+$/.test(s) ? s : `'${s.replace(/'/g, "''")}'`);

/**
 * The cladogram in Newick: each species is a node labelled with its id, with its daughter
 * species as children and a tip `id_tip` for its own line; branch lengths are frames (from the
 * parent's split to this one's, and a tip's to its extinction or the last frame).
 */
export function toNewick(c: Cladogram): string {
  const kids = childrenOf(c);
  const walk = (n: CladeNode, from: number): string => {
    const end = n.extinct ?? c.lastFrame;
    const parts = (kids.get(n.id) ?? []).map((k) => walk(k, n.born));
    parts.push(`${quote(n.id + '_tip')}:${end - n.born}`);
    return `(${parts.join(',')})${quote(n.id)}:${n.born - from}`;
  };
  const roots = (kids.get(null) ?? []).map((n) => walk(n, 0));
  return `(${roots.join(',')})${c.root};`;
}

/**
 * The cladogram as it stood at `frame`: the species born by then, those extinct later shown alive,
 * and time ending at `frame` (the viewer's Demo panel follows its timeline with it). A frame past
 * the last one gives the cladogram unchanged.
 */
export function cladogramAt(c: Cladogram, frame: number): Cladogram {
  if (frame >= c.lastFrame) return c;
  const nodes = c.nodes.filter((n) => n.born <= frame).map((n) => (n.extinct !== null && n.extinct > frame ? { ...n, extinct: null } : n));
  return { root: c.root, lastFrame: Math.max(0, frame), nodes };
}
