import { createRng, type Rng } from '../../rng/createRng.js';

/** What one fleet agent process is told. */
export interface FleetAgentConfig {
  dir: string;
  index: number;
  agents: number;
  frames: number;
  items: number;
  seed: string;
  /** The first frame this life of the agent runs (1, or the frame after a crash). */
  from: number;
  /** Epoch ms at which frame 1 opens; frame f opens `(f − 1) × periodMs` later. */
  startAt: number;
  periodMs: number;
  frameTimeoutMs: number;
  /** May this life crash hard (the first life of each agent; a restarted agent does not)? */
  mayCrash: boolean;
}

/** Tasks the agents (and the supervisor) claim: few, so that claims collide. */
export const TASKS = 6;

/**
 * The fleet's plan policies (PROTOCOL §2a): a supervisor's assignment of a task outranks any
 * agent's claim (agents among themselves: the later claim), and the board keeps the peak load.
 */
export const FLEET_POLICIES = { tasks: { owner: { priority: ['supervisor', 'agent-*'] } }, board: { load_ms: 'max' } } as const;

/** The agent's writer name. */
export const agentName = (i: number): string => `agent-${i}`;

/** The work items of frame `f` that agent `a` picks: item i is due at frame 1 + i mod F, for agent ⌊i / F⌋ mod N. */
export function itemsFor(c: Pick<FleetAgentConfig, 'items' | 'frames' | 'agents'>, frame: number, agent: number): number[] {
  const out: number[] = [];
  for (let i = frame - 1; i < c.items; i += c.frames) if (Math.floor(i / c.frames) % c.agents === agent) out.push(i);
  return out;
}

/** The generator of agent `a` at frame `f`: the same workload for every run with this seed. */
export const agentRng = (seed: string, agent: number, frame: number): Rng => createRng(seed).split(`agent-${agent}`).split(`frame-${frame}`);

/** The frame at which agent `a`'s first life dies by SIGKILL, or undefined (the last agent always does, once). */
export function crashFrame(c: Pick<FleetAgentConfig, 'agents' | 'frames' | 'seed'>, agent: number): number | undefined {
  if (c.frames < 3) return undefined;
  if (agent === c.agents - 1) return Math.ceil(c.frames / 3);
  const rng = createRng(c.seed).split(`crash-${agent}`);
  return rng.chance(0.25) ? 2 + rng.int(c.frames - 2) : undefined;
}
