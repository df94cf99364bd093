import { Command, Option } from 'commander';
import { run } from './streamCommands.js';
import { parseCondition, parseJoin, runQuery, type QuerySpec } from '../query/index.js';
import { requireInstant, StreamError } from '../stream/index.js';

/**
 * `framelog query STREAM [--type T] [--since TIME] [--until TIME] [--where F OP V]…
 *  [--join S:key]… [--select F]… [--distinct] [--limit N]`: NDJSON out, one row per line.
 */
export function registerQueryCommands(program: Command): void {
  program
    .command('query')
    .description('query a stream, joined with others by a key; NDJSON out (syntax: see docs/query.md in the framelog repository)')
    .argument('<stream>', 'the base stream')
    .addOption(new Option('--dir <dir>', 'store folder').env('FRAMELOG_DIR').default('.framelog'))
    .option('--type <type>', 'only base records whose "type" is this (repeat for any of several)', collect, [])
    .option('--since <time>', 'only base records with ts at or after this RFC 3339 instant')
    .option('--until <time>', 'only base records with ts before this RFC 3339 instant')
    .option('--where <cond>', 'FIELD OP VALUE, OP one of = != > >= < <=; FIELD dotted, STREAM.field for a joined stream (repeat: all hold)', collect, [])
    .option('--join <stream:key>', 'inner join STREAM on key (STREAM:key or STREAM:baseKey=joinKey); its record appears under "STREAM"', collect, [])
    .option('--select <field>', 'keep only these dotted fields (repeat)', collect, [])
    .option('--distinct', 'drop repeated rows')
    .option('--limit <n>', 'stop after n rows')
    .action(run(async (stream: string, opts: { dir: string; type: string[]; since?: string; until?: string; where: string[]; join: string[]; select: string[]; distinct?: boolean; limit?: string }) => {
      const spec: QuerySpec = {
        from: stream,
        types: opts.type,
        ...(opts.since !== undefined ? { since: requireInstant(opts.since, '--since') } : {}),
        ...(opts.until !== undefined ? { until: requireInstant(opts.until, '--until') } : {}),
        where: opts.where.map(parseCondition),
        joins: opts.join.map(parseJoin),
        ...(opts.select.length > 0 ? { select: opts.select } : {}),
        distinct: opts.distinct === true,
        ...(opts.limit !== undefined ? { limit: wholeNumber(opts.limit) } : {}),
      };
      let buf = '';
      for await (const row of runQuery(opts.dir, spec)) {
        buf += JSON.stringify(row) + '\n';
        if (buf.length > 1 << 16) {
          await write(buf);
          buf = '';
        }
      }
      if (buf) await write(buf);
    }));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text)) throw new StreamError('BAD_FILTER', `--limit ${JSON.stringify(text)} is not a whole number ≥ 0`);
  return Number(text);
}

function write(text: string): Promise<void> {
  return new Promise((resolve) => (process.stdout.write(text) ? resolve() : process.stdout.once('drain', resolve)));
}
