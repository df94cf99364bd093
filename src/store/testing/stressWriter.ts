/**
 * A writer process for the store's stress tests: emits one delta per frame for frames 1..F at a
 * shared cadence. Its deltas are deterministic (utc = start + frame × period), so a restarted
 * writer re-emits identical copies — duplicates, never double counts. Modes:
 * - `slow`: every 7th frame arrives after the merger's frame timeout (a late delta);
 * - `flaky`: every 23rd frame first fails (a fallback delta), and the real delta follows two frames later.
 * Usage: node stressWriter.js DIR WRITER FRAMES START_MS PERIOD_MS MODE [SLOW_MS]
 */
import { createWriter } from '../../writer/createWriter.js';

const [dir, writer, framesArg, startArg, periodArg, mode = 'normal', slowArg = '0'] = process.argv.slice(2);
const frames = Number(framesArg), start = Number(startArg), period = Number(periodArg), slowMs = Number(slowArg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const slot = (frame: number) => start + frame * period;
let clock = 0;
// The writer's clock is the frame's slot, so a re-run writes byte-identical deltas.
const w = createWriter({ dir, writer, clock: () => clock });

async function emit(frame: number): Promise<void> {
  clock = slot(frame);
  await w.emit(frame, (d) => {
    d.incr('ops').incr(`by.${writer}`);
    d.item('done', { id: `${writer}/${frame}` });
    d.set('writers', writer, { last: frame });
    d.set('board', 'leader', 'holder', writer);
  }, { seq: 0 });
}

for (let f = 1; f <= frames; f++) {
  await sleep(slot(f) - Date.now());
  if (mode === 'slow' && f % 7 === 0) await sleep(slowMs);
  if (mode === 'flaky' && f % 23 === 0) {
    clock = slot(f);
    await w.fallback(f, { seq: 0, meta: { error: 'simulated model failure' } });
    continue;
  }
  await emit(f);
  if (mode === 'flaky' && f > 2 && (f - 2) % 23 === 0) await emit(f - 2);
}
