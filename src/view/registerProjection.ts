import type { JsonValue, StreamRecord } from '../stream/index.js';
import type { Projection } from './Projection.js';

/** One dispatch's place in its lifecycle, from the register stream. */
export interface DispatchState {
  [key: string]: JsonValue;
  state: string;
  /** `ts` of the transition into `state`. */
  since: string | null;
  worker: string | null;
  transitions: number;
}

export type RegisterView = { dispatches: { [id: string]: DispatchState } };

/**
 * The register projection: each dispatch's current lifecycle state, from the `register` stream's
 * `{type: "transition", dispatch_id, state, worker?}` records (the last transition wins).
 */
export const registerProjection: Projection<RegisterView> = {
  name: 'register',
  version: 1,
  sources: ['register'],
  initialState: () => ({ dispatches: {} }),
  evolve(view, r: StreamRecord) {
    const id = r['dispatch_id'];
    const state = r['state'];
    if (typeof id !== 'string' || typeof state !== 'string') return view;
    if (r['type'] !== undefined && r['type'] !== 'transition') return view;
    const prev = Object.hasOwn(view.dispatches, id) ? view.dispatches[id] : undefined;
    const worker = typeof r['worker'] === 'string' ? r['worker'] : (prev?.worker ?? null);
    const next: DispatchState = { state, since: typeof r['ts'] === 'string' ? r['ts'] : null, worker, transitions: (prev?.transitions ?? 0) + 1 };
    // defineProperty: an id such as "__proto__" stays a plain key.
    Object.defineProperty(view.dispatches, id, { value: next, enumerable: true, writable: true, configurable: true });
    return view;
  },
};
