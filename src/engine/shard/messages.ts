import type { JsonObject } from '../../delta/types.js';

/** Coordinator → worker: how to build deltas. */
export interface InitMessage {
  type: 'init';
  dir: string;
  /** The module (absolute path) exporting the simulation. */
  module: string;
  exportName: string;
  seed: string;
  params: JsonObject;
  shards: number;
  start: string;
  stepMs: number;
  wallTime: boolean;
}

/**
 * Coordinator → worker: compute these shards' deltas for `frame` from the state after merge
 * `through` (null: the empty state). The worker keeps its own replica of the state and brings it
 * there by applying the merges it has not seen, read from the store's journal and archive: the
 * coordinator never sends the state.
 */
export interface FrameMessage {
  type: 'frame';
  frame: number;
  shards: number[];
  through: number | null;
}

/** Worker → coordinator. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'done'; frame: number; shards: number[] }
  | { type: 'error'; message: string };

export type CoordinatorMessage = InitMessage | FrameMessage | { type: 'stop' };
