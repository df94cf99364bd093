import { FramelogError } from '../../errors.js';

/** The default start of a run's logical clock. */
export const DEFAULT_START_UTC = '2026-01-01T00:00:00.000Z';
/** The default logical length of one frame, in milliseconds. */
export const DEFAULT_STEP_MS = 1000;

/**
 * A run's logical clock: frame N happens at `start + N × step`. Deltas and merge records take
 * their `utc` from it, so the same run gives the same bytes whenever and wherever it runs.
 */
export interface LogicalClock {
  readonly startUtc: string;
  readonly stepMs: number;
  /** Epoch milliseconds of `frame`. */
  ms(frame: number): number;
  /** RFC 3339 `utc` of `frame`. */
  utc(frame: number): string;
}

/** Creates the logical clock of a run starting at `startUtc`, one frame every `stepMs`. */
export function logicalClock(startUtc: string = DEFAULT_START_UTC, stepMs: number = DEFAULT_STEP_MS): LogicalClock {
  const start = Date.parse(startUtc);
  if (!Number.isFinite(start)) throw new FramelogError(`start ${JSON.stringify(startUtc)}: not an RFC 3339 timestamp`, 'bad-argument');
  if (!Number.isSafeInteger(stepMs) || stepMs < 1) throw new FramelogError(`stepMs ${stepMs}: must be an integer ≥ 1`, 'bad-argument');
  const canonical = new Date(start).toISOString();
  return {
    startUtc: canonical,
    stepMs,
    ms: (frame) => start + frame * stepMs,
    utc: (frame) => new Date(start + frame * stepMs).toISOString(),
  };
}
