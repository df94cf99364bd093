import { join } from 'node:path';
import { createWriter } from '../writer/createWriter.js';
import type { DeltaBuilder } from '../writer/deltaBuilder.js';
import { seededRandom } from '../engine/rng/seededRandom.js';
import { createFileDurable } from '../durable/durableFs.js';
import type { Delta } from '../delta/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One demo agent's unit of work for frame `f`: worker-7 fails now and then (the writer turns that
 * into a fallback delta); everyone claims the shared `board/leader` (field conflicts) and proposes
 * milestones (item conflicts). `handoffs` adds the occasional handoff event.
 */
export function demoUnit(d: DeltaBuilder, index: number, writers: number, f: number, rnd: () => number, handoffs: boolean): void {
  const name = `worker-${index}`;
  if (index === 7 && f % 11 === 0) throw new Error('model call timed out');
  const tokens = 50 + Math.floor(rnd() * 500);
  d.incr('tasks_done').incr('tokens', tokens);
  d.item('results', { id: `r-${f}-${index}`, writer: name, score: Math.round(rnd() * 1000) / 1000 });
  if (f % 10 === 0) d.item('milestones', { id: `m-${f / 10}`, proposed_by: name });
  d.set('agents', name, { status: rnd() < 0.2 ? 'idle' : 'busy', load: Math.round(rnd() * 100) / 100, last_frame: f });
  d.set('board', 'leader', 'claimed_by', name);
  d.event({ type: 'task', worker: name, tokens });
  if (handoffs && rnd() < 0.1) d.event({ type: 'handoff', from: name, to: `worker-${(index + 1) % writers}` });
}

/** Options of one demo writer process. */
export interface DemoWriterOptions {
  dir: string;
  index: number;
  writers: number;
  frames: number;
  seed: number;
  /** How long the merger waits for a frame: the slow writer sleeps past it now and then. */
  frameTimeoutMs: number;
  /** Epoch ms at which frame 1 opens; frames open every `periodMs`, as a shared clock would tick. */
  startAt: number;
  periodMs: number;
}

/**
 * One writer of `framelog demo`: an agent that does a unit of work per frame and emits a delta.
 * Some behave badly on purpose, as real fleets do: worker-7 crashes now and then (fallback),
 * worker-3 is sometimes slower than the frame timeout (late), worker-5 redelivers an old delta
 * (duplicate), worker-6 once drops a malformed file (quarantine). Everyone claims the shared
 * `board/leader` (field conflicts) and proposes milestones (item conflicts).
 */
export async function runDemoWriter(o: DemoWriterOptions): Promise<void> {
  const name = `worker-${o.index}`;
  const writer = createWriter({ dir: o.dir, writer: name });
  const rnd = seededRandom(o.seed * 1000 + o.index);
  const sent = new Map<number, Delta>();
  for (let f = 1; f <= o.frames; f++) {
    await sleep(Math.max(0, o.startAt + (f - 1) * o.periodMs - Date.now()) + rnd() * o.periodMs * 0.5);
    if (o.index === 3 && f % 16 === 0) await sleep(o.frameTimeoutMs * 1.2);
    const unit = await writer.run(f, (d) => demoUnit(d, o.index, o.writers, f, rnd, true));
    sent.set(f, unit.delta);
    const old = sent.get(f - 3);
    if (o.index === 5 && f % 8 === 0 && old) {
      // Redeliver the identical delta of three frames ago, as a retrying transport would.
      createFileDurable(join(o.dir, 'inbox', `redelivered-${f - 3}.json`), Buffer.from(JSON.stringify(old)));
    }
    if (o.index === 6 && f === Math.ceil(o.frames / 2)) {
      // A buggy writer in another language drops a file that breaks the protocol.
      createFileDurable(join(o.dir, 'inbox', `buggy-${f}.json`), Buffer.from(`{"frame":${f},"writer":"${name}","utc":"${new Date().toISOString()}","counters":{"tasks_done":NaN}}`));
    }
  }
}
