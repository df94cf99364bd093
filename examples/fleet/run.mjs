// The fleet demo from a script: agent processes, crashes, late deltas, streams, and the naive
// shared-file comparison. Same as `framelog demo fleet --json`.
//   node examples/fleet/run.mjs [dir]          (in a project that has `npm install framelog`)
import { runFleetDemo } from 'framelog/demos';

const dir = process.argv[2] ?? '.framelog-example-fleet';
const { summary, lines } = await runFleetDemo({ frames: 30, seed: '1', workers: 4, size: 200, shards: 4, dir, json: true });
console.log(lines.join('\n'));
console.log(`framelog lost ${summary.figures.framelog_lost}; the naive shared file lost ${summary.figures.naive_lost}`);
