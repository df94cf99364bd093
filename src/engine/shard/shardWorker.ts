/**
 * A worker process of a sharded run: receives `init`, then one `frame` message per frame naming
 * the last merged frame; brings its own replica of the state there from the store's archive,
 * computes the deltas of the shards it hosts and drops them
 * into the store's inbox (the same bytes any other process would compute), then says `done`.
 * Started by {@link ShardHost}; not meant to be run by hand.
 */
import { pathToFileURL } from 'node:url';
import { FramelogError } from '../../errors.js';
import type { JsonObject } from '../../delta/types.js';
import type { State } from '../../merge/canonicalState.js';
import { stateView } from '../../merge/stateView.js';
import { openStateReplica, type StateReplica } from './stateReplica.js';
import { putDeltas } from '../../store/inbox/putDeltas.js';
import { openStoreContext, type StoreContext } from '../../store/storeContext.js';
import { logicalClock } from '../clock/logicalClock.js';
import { createRng } from '../rng/createRng.js';
import type { Simulation } from '../simulation/Simulation.js';
import { buildShardDelta } from '../tick/buildShardDelta.js';
import { deepFreeze } from '../tick/deepFreeze.js';
import type { CoordinatorMessage, InitMessage, WorkerMessage } from './messages.js';

const send = (m: WorkerMessage): void => {
  process.send?.(m);
};

let init: InitMessage | undefined;
let sim: Simulation | undefined;
let ctx: StoreContext | undefined;
let replica: StateReplica | undefined;
const EMPTY: State = deepFreeze({ items: {}, counters: {}, entities: {} });

process.on('message', (raw: CoordinatorMessage) => {
  void handle(raw).catch((e: unknown) => {
    send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    process.exitCode = 2;
    process.disconnect?.();
  });
});
process.on('disconnect', () => process.exit());

async function handle(m: CoordinatorMessage): Promise<void> {
  if (m.type === 'stop') {
    process.disconnect?.();
    return;
  }
  if (m.type === 'init') {
    init = m;
    const mod = (await import(pathToFileURL(m.module).href)) as Record<string, unknown>;
    sim = mod[m.exportName] as Simulation | undefined;
    if (!sim || typeof sim.tick !== 'function') throw new FramelogError(`${m.module}: export ${m.exportName} is not a simulation (no tick)`, 'bad-argument');
    ctx = openStoreContext(m.dir);
    send({ type: 'ready' });
    return;
  }
  if (!init || !sim || !ctx) throw new Error('frame before init');
  replica ??= openStateReplica(ctx);
  replica.catchUp(m.through);
  const state = m.through === null ? EMPTY : stateView(replica.state);
  const clock = logicalClock(init.start, init.stepMs);
  const root = createRng(init.seed);
  const inputs = m.shards.map((shard) => {
    const d = buildShardDelta({ sim: sim!, seed: init!.seed, params: init!.params as JsonObject, shards: init!.shards, clock, root, frame: m.frame, shard, state, wallTime: init!.wallTime });
    return { bytes: Buffer.from(JSON.stringify(d)), source: `shard-${shard} frame ${m.frame}` };
  });
  putDeltas(ctx, inputs);
  send({ type: 'done', frame: m.frame, shards: m.shards });
}
