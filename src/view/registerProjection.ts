import type { JsonValue, StreamRecord } from '../stream/index.js';
import type { Projection } from './Projection.js';

/** One dispatch's place in its lifecycle, from the register stream. */
export interface DispatchState {
  [key: string]: JsonValue;
  state: string;
  /** `ts` of the record that moved it into `state`. */
  since: string | null;
  worker: string | null;
  transitions: number;
}

/** An agent process as the register knows it: its current dispatch (one life) and that life's state. */
export interface AgentState {
  [key: string]: JsonValue;
  dispatch: string;
  state: string;
  since: string | null;
  /** Lives so far: the first start and every restart. */
  lives: number;
}

export type RegisterView = { dispatches: { [id: string]: DispatchState }; agents: { [agent: string]: AgentState } };

/** Lifecycle events of an agent process (`framelog demo fleet`) and the state each puts its life in. */
const LIFE_STATES: Record<string, string> = { start: 'running', restart: 'running', crash: 'crashed', stop: 'stopped' };

/** The dispatch register events of an orchestrator (VNX-shaped) and the state each names. */
const DISPATCH_EVENTS: Record<string, string> = {
  dispatch_created: 'created',
  dispatch_queued: 'queued',
  dispatch_started: 'running',
  gate_passed: 'gate_passed',
  gate_failed: 'gate_failed',
  dispatch_completed: 'completed',
  dispatch_failed: 'failed',
  dispatch_cancelled: 'cancelled',
  dispatch_timeout: 'timed_out',
};

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Sets `key` on `obj` as a plain own property (an id such as "__proto__" stays a key). */
function put<T>(obj: { [k: string]: T }, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function move(view: RegisterView, id: string, state: string, ts: string | null, worker: string | null): void {
  const prev = Object.hasOwn(view.dispatches, id) ? view.dispatches[id] : undefined;
  put(view.dispatches, id, { state, since: ts, worker: worker ?? prev?.worker ?? null, transitions: (prev?.transitions ?? 0) + 1 });
}

/**
 * The register projection: each dispatch's current lifecycle state, from the `register` stream.
 * It reads three shapes of record (the last one for a dispatch wins):
 * - `{type: "transition", dispatch_id, state, worker?}`: the state as written;
 * - orchestrator events `{type: "dispatch_created" | "dispatch_started" | "gate_passed" |
 *   "gate_failed" | "dispatch_completed" | "dispatch_failed" | …, dispatch_id, worker? | terminal?}`:
 *   the state the event names (`created`, `running`, `gate_passed`, …; any other `dispatch_X`
 *   gives `X`);
 * - agent lifecycles `{type: "lifecycle", agent, event: start | restart | crash | stop, frame}`, as
 *   `framelog demo fleet` writes them: each start or restart opens a dispatch `agent@frame` (one life
 *   of the process, as the server's dispatch timeline names it), running until its crash or stop;
 *   `agents` gives each agent's current life.
 */
export const registerProjection: Projection<RegisterView> = {
  name: 'register',
  version: 2,
  sources: ['register'],
  initialState: () => ({ dispatches: {}, agents: {} }),
  evolve(view, r: StreamRecord) {
    const type = r['type'];
    const ts = str(r['ts']);
    if (type === 'lifecycle') {
      const agent = str(r['agent']), event = str(r['event']);
      const frame = typeof r['frame'] === 'number' ? r['frame'] : null;
      if (agent === null || event === null || !(event in LIFE_STATES)) return view;
      const state = LIFE_STATES[event]!;
      const current = Object.hasOwn(view.agents, agent) ? view.agents[agent] : undefined;
      if (event === 'start' || event === 'restart') {
        const id = `${agent}@${frame ?? (current?.lives ?? 0) + 1}`;
        move(view, id, state, ts, agent);
        put(view.agents, agent, { dispatch: id, state, since: ts, lives: (current?.lives ?? 0) + 1 });
      } else if (current && current.state === 'running') {
        move(view, current.dispatch, state, ts, agent);
        put(view.agents, agent, { ...current, state, since: ts });
      }
      return view;
    }
    const id = str(r['dispatch_id']);
    if (id === null) return view;
    const worker = str(r['worker']) ?? str(r['terminal']) ?? str(r['agent']);
    if (type === undefined || type === 'transition') {
      const state = str(r['state']);
      if (state !== null) move(view, id, state, ts, worker);
      return view;
    }
    if (typeof type !== 'string') return view;
    const state = Object.hasOwn(DISPATCH_EVENTS, type) ? DISPATCH_EVENTS[type]! : type.startsWith('dispatch_') ? type.slice('dispatch_'.length) : null;
    if (state !== null && state !== '') move(view, id, state, ts, worker);
    return view;
  },
};
