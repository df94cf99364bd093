import { openStreamAppender } from '../../../stream/openStreamAppender.js';
import { createWriter } from '../../../writer/createWriter.js';
import { agentName, agentRng, crashFrame, itemsFor, TASKS, type FleetAgentConfig } from './fleetWorkload.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One agent of `framelog demo fleet`, in its own process. Each frame it picks its work items,
 * "calls a model" for each (simulated latency; some calls fail; the gate rejects some answers),
 * and emits one delta (items, counters, entity updates) through a Writer — a fallback delta when
 * the model is down for the whole frame. Then it appends receipts and gate decisions to the
 * orchestrator's streams. One agent is slow now and then (its delta arrives late), and some die
 * by SIGKILL in the middle of a frame (the orchestrator writes their fallback and restarts them).
 */
export async function runFleetAgent(c: FleetAgentConfig): Promise<void> {
  const name = agentName(c.index);
  const writer = createWriter({ dir: c.dir, writer: name });
  const receipts = openStreamAppender(c.dir, 'receipts', { durability: 'batch' });
  const audit = openStreamAppender(c.dir, 'audit', { durability: 'batch' });
  const register = openStreamAppender(c.dir, 'register', { durability: 'batch' });
  await register.append({ type: 'lifecycle', agent: name, event: c.from === 1 ? 'start' : 'restart', frame: c.from, pid: process.pid });
  const dies = c.mayCrash ? crashFrame(c, c.index) : undefined;
  for (let f = c.from; f <= c.frames; f++) {
    await sleep(Math.max(0, c.startAt + (f - 1) * c.periodMs - Date.now()));
    const rng = agentRng(c.seed, c.index, f);
    const work = itemsFor(c, f, c.index);
    const slow = c.index === 1 && f % 12 === 0;
    const rec: Array<Record<string, unknown>> = [];
    const gate: Array<Record<string, unknown>> = [];
    await writer.run(f, async (d) => {
      if (rng.chance(0.04)) throw new Error('model unavailable (503) for the whole frame');
      let load = 0;
      for (const item of work) {
        const latency = Math.round(3 + -Math.log(1 - rng.next()) * 12);
        await sleep(latency);
        if (f === dies) process.kill(process.pid, 'SIGKILL'); // a hard crash, mid-call
        load += latency;
        const id = `item-${item}`;
        if (rng.chance(0.06)) {
          d.incr('model_errors');
          rec.push({ type: 'receipt', item: id, agent: name, frame: f, status: 'error', latency_ms: latency });
          continue;
        }
        const tokens = 100 + rng.int(900);
        const score = Math.round(rng.next() * 1000) / 1000;
        const approve = score >= 0.1;
        gate.push({ type: 'gate', item: id, agent: name, frame: f, decision: approve ? 'approve' : 'reject', reason: approve ? 'score above 0.1' : `score ${score} below 0.1` });
        d.incr('calls').incr('tokens', tokens);
        if (!approve) {
          d.incr('rejected');
          rec.push({ type: 'receipt', item: id, agent: name, frame: f, status: 'rejected', tokens, latency_ms: latency });
          continue;
        }
        d.item('results', { id, agent: name, frame: f, tokens, score });
        d.incr('items_done');
        d.set('work', id, { status: 'done', by: name, frame: f });
        d.set('board', 'latest', 'item', id); // every agent writes it: last write wins, losers in the conflict log
        rec.push({ type: 'receipt', item: id, agent: name, frame: f, status: 'ok', tokens, latency_ms: latency });
      }
      d.set('agents', name, { status: 'idle', frame: f, load_ms: load, pid: process.pid });
      // Field policies at work (the plan: tasks.owner by priority, supervisor first; board.peak.load_ms by max):
      // agents claim a task from a small pool, so claims collide; every agent reports its load to one peak.
      d.set('tasks', `task-${rng.int(TASKS)}`, 'owner', name);
      d.set('board', 'peak', 'load_ms', load);
      if (slow) await sleep(c.frameTimeoutMs * 1.3); // slower than the merger waits: arrives late
    });
    await receipts.appendBatch(rec);
    await audit.appendBatch(gate);
  }
  await register.append({ type: 'lifecycle', agent: name, event: 'stop', frame: c.frames });
  await Promise.all([receipts.close(), audit.close(), register.close()]);
}
