export { logicalClock, DEFAULT_START_UTC, DEFAULT_STEP_MS, type LogicalClock } from './logicalClock.js';
