import os from 'node:os';

/**
 * The demos' line that says why deltas were late or writers missing at a frame's close: the frame
 * timeout, what makes a writer slower than it (`cause`), the machine's load when it is high, and
 * that nothing is lost. Empty when nothing was late or missing.
 */
export function lateWhy(late: number, missing: number, timeoutMs: number, cause: string): string[] {
  if (late + missing === 0) return [];
  const [load] = os.loadavg();
  const cores = os.cpus().length;
  const loaded = load > cores ? ` (this machine is loaded: load ${load.toFixed(1)} on ${cores} cores)` : '';
  return [`  why         a frame closes when every writer reported or ${timeoutMs} ms after its first delta (--timeout); a writer slower than that (${cause})${loaded} is missing at the close, and its delta, late, is merged by the next merge: nothing is lost`];
}
