/**
 * A child compactor for the compaction kill test. Arguments (JSON in argv[2]): `{ dir, stream, rounds, dieAt? }`.
 * Compacts `rounds` times; with `dieAt` (a compaction step) it SIGKILLs itself when it gets there.
 */
import { compactStream, type CompactStep } from '../compact/compactStream.js';
import { streamExists } from '../readStream.js';

const args = JSON.parse(process.argv[2]!) as { dir: string; stream: string; rounds: number; dieAt?: CompactStep };
// The appenders start beside this child: compacting a stream that does not exist yet is an error.
while (!streamExists(args.dir, args.stream)) await new Promise((r) => setTimeout(r, 5));
for (let i = 0; i < args.rounds; i++) {
  compactStream(args.dir, args.stream, {
    onStep: (step) => {
      if (step === args.dieAt) process.kill(process.pid, 'SIGKILL');
    },
  });
}
