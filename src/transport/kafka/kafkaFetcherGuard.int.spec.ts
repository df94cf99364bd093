// kafkajs 2.2.4 fetchers that outlive their consumer's stop spin on the microtask queue and stall
// the process; the guard ends them. The race is played on kafkajs' own fetch manager, in a child
// process (a process that spins never runs a timer again, so the test could not time it out).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const guard = fileURLToPath(new URL('../../../dist/transport/kafka/kafkaFetcherGuard.js', import.meta.url));
const race = (withGuard: boolean): string => `
  import { createRequire } from 'node:module';
  ${withGuard ? `const { guardKafkaFetchers } = await import(${JSON.stringify(guard)}); guardKafkaFetchers();` : ''}
  const require = createRequire(${JSON.stringify(fileURLToPath(import.meta.url))});
  const createFetchManager = require('kafkajs/src/consumer/fetchManager.js');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const logger = { debug() {}, info() {}, warn() {}, error() {}, namespace() { return logger; } };
  let nodeIds = [1, 2];
  let runnerStopped = false;
  const fm = createFetchManager({
    logger, concurrency: 1, getNodeIds: () => nodeIds, handler: async () => {},
    // The runner's fetch: node 1 is slow (a long poll), node 2 quick; a stopped runner answers [] at once.
    fetch: async (nodeId) => { if (runnerStopped) return []; await sleep(nodeId === 1 ? 300 : 10); return []; },
  });
  const started = fm.start().then(() => 'ended', (e) => 'ended: ' + e.name);
  await sleep(50);
  nodeIds = [1];           // broker 2 leaves: node 2's fetcher fails with a rebalance, the manager waits for node 1's
  await sleep(50);
  runnerStopped = true;    // the consumer stops meanwhile
  await fm.stop();
  const outcome = await Promise.race([started, sleep(2000).then(() => 'still running')]);
  console.log(outcome);
  process.exit(0);
`;
const run = (withGuard: boolean) => spawnSync(process.execPath, ['--input-type=module', '-e', race(withGuard)], { encoding: 'utf8', timeout: withGuard ? 15_000 : 6_000 });

describe('kafka fetcher guard', () => {
  it('a fetch manager rebuilding its fetchers when its consumer stops: the rebuilt fetchers end instead of spinning', () => {
    const r = run(true);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ended: FramelogConsumerStopped');
  });

  it('without the guard the race spins (the case the guard exists for still happens in this kafkajs)', () => {
    const r = run(false);
    expect(r.signal).toBe('SIGTERM'); // killed at the time limit: its own 2 s timer never fired
    expect(r.stdout).toBe('');
  }, 30_000);
});
