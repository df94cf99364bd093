#!/usr/bin/env node
import { Command } from 'commander';
import { registerCoreCommands } from './coreCommands.js';
import { registerDemoCommand } from './demoCommand.js';
import { registerEngineCommands } from './engineCommands.js';
import { registerStreamCommands } from './streamCommands.js';
import { registerQueryCommands } from './queryCommands.js';
import { registerViewCommands } from './viewCommands.js';
import { registerCompactCommands } from './compactCommands.js';
import { registerTransportCommands } from './transportCommands.js';
import { registerServerCommands } from './serverCommands.js';
import { registerCopyCommand } from './copyCommand.js';
import { registerMcpCommand } from './mcpCommand.js';
import { registerResolveCommands, registerWhatIfCommand } from './resolveCommands.js';

// A reader that stops reading (`framelog log | head -1`) is no error: end quietly, as Unix tools
// do, instead of a stack trace for the EPIPE of the next write.
for (const out of [process.stdout, process.stderr]) {
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const program = new Command()
  .name('framelog')
  .description('Log-shaped state: writers emit deltas, one merge engine applies them at frame boundaries.')
  .version('0.1.0')
  .showHelpAfterError('(run framelog help for the commands)')
  .addHelpText('after', `
Examples:
  framelog init                      create .framelog/ here
  framelog put delta.json            drop a delta into the inbox
  framelog merge                     close pending frames
  framelog state --at 12             state after frame 12
  framelog diff 11 12                what frame 12 changed
  framelog conflicts --open          who lost, and to whom, not yet resolved
  framelog resolve m12.0 --winner w2 close a conflict with a resolution delta
  framelog whatif --plan other.json  how state and conflicts differ under other policies
  framelog verify                    recompute everything from the archive
  framelog append receipts '{"type":"task_complete"}'   append to a named stream
  framelog tail -f receipts          follow a stream
  framelog demo                      8 writer processes, 50 frames
  framelog demo evolution            a simulation: also ecosystem, fleet

The store folder is --dir, or $FRAMELOG_DIR, or .framelog.`);

registerCoreCommands(program);
registerResolveCommands(program);
registerWhatIfCommand(program);
registerStreamCommands(program);
registerQueryCommands(program);
registerViewCommands(program);
registerCompactCommands(program);
registerDemoCommand(program);
registerTransportCommands(program);
registerCopyCommand(program);
registerEngineCommands(program);
registerServerCommands(program);
registerMcpCommand(program);
await program.parseAsync(process.argv);
