import { Command, Option } from 'commander';
import { run } from './streamCommands.js';
import { StreamError } from '../stream/index.js';
import { builtinViews, updateView, watchView } from '../view/index.js';
import { canonicalJson } from '../delta/canonicalJson.js';
import type { JsonValue } from '../delta/types.js';

/** `framelog view NAME [--rebuild] [--watch] [--full]`: brings a projection up to date and prints it. */
export function registerViewCommands(program: Command): void {
  program
    .command('view')
    .description(`print projection NAME (views/NAME.json), updated from its checkpoint first; views: ${[...builtinViews.keys()].join(', ')}`)
    .argument('<name>', 'the projection')
    .addOption(new Option('--dir <dir>', 'store folder').env('FRAMELOG_DIR').default('.framelog'))
    .option('--rebuild', 'ignore the stored view and rebuild it from the start of its sources')
    .option('--watch', 'keep it current as records arrive, printing it after each update')
    .option('--full', 'print the stored file (view, version, definition, checkpoint, state), not only the state')
    .action(run(async (name: string, opts: { dir: string; rebuild?: boolean; watch?: boolean; full?: boolean }) => {
      const p = builtinViews.get(name);
      if (!p) throw new StreamError('NOT_FOUND', `no projection ${JSON.stringify(name)}: known ones are ${[...builtinViews.keys()].join(', ')}`);
      // Canonical JSON: a view built now and one read back from its file print the same bytes.
      const print = (v: { state: unknown }): void => void process.stdout.write(canonicalJson((opts.full ? v : v.state) as JsonValue) + '\n');
      if (!opts.watch) {
        const r = await updateView(opts.dir, p, { rebuild: opts.rebuild === true });
        if (r.rebuilt && r.rebuilt !== 'missing' && r.rebuilt !== 'requested') process.stderr.write(`framelog: view ${name} rebuilt (${r.rebuilt})\n`);
        print(r.view);
        return;
      }
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      await watchView(opts.dir, p, (r) => print(r.view), { rebuild: opts.rebuild === true, signal: stop.signal });
    }));
}
