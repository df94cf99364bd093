import { progressBar } from '../engine/demos/progressBar.js';
import type { Command } from 'commander';
import { copyStore } from '../store/replication/copyStore.js';
import { resolveStoreDir } from '../store/layout.js';
import { openStoreContext } from '../store/storeContext.js';
import { action } from './output.js';

/** Registers `framelog copy DEST`: a consistent copy of a store's merge history, e.g. to start a merger host. */
export function registerCopyCommand(program: Command): void {
  program
    .command('copy <dest>')
    .description('copy the merge history of the store (plan, journals, archive, quarantine, snapshots) into a new store at DEST, byte for byte; safe while the store merges; how a new merger host starts when the published merges it needs were trimmed')
    .option('--dir <dir>', 'the store to copy (default: $FRAMELOG_DIR or .framelog)')
    .option('--json', 'print what was copied as JSON')
    .addHelpText('after', '\nExamples:\n  framelog copy /mnt/standby/merger --dir merger     # then, on the standby: framelog merge --dir merger --watch')
    .action(action((dest: string, o: { dir?: string; json?: boolean }) => {
      const from = openStoreContext(resolveStoreDir(o.dir));
      const bar = progressBar(' copying {bar} {value}/{total} merges');
      const showBar = !o.json;
      let started = false;
      const r = copyStore(from, dest, {
        onProgress: (done, total) => {
          if (!showBar) return;
          if (!started) bar.start(total, 0);
          started = true;
          bar.update(done);
        },
      });
      if (started) bar.stop();
      if (o.json) process.stdout.write(JSON.stringify({ from: from.layout.root, dest, ...r }) + '\n');
      else process.stdout.write(`copied ${r.merges} merge${r.merges === 1 ? '' : 's'}${r.frame === null ? '' : ` (through frame ${r.frame})`} and ${r.snapshots} snapshot${r.snapshots === 1 ? '' : 's'} from ${from.layout.root} to ${dest}\n`);
    }));
}
