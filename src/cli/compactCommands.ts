import { Command, Option } from 'commander';
import { run } from './streamCommands.js';
import { archiveEndedKeys, compactStream, listStreams, loadArchiveByKeyRule, StreamError } from '../stream/index.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `framelog compact [STREAM…] [--max-bytes N] [--max-age 7d] [--no-gzip]`: rotate live files into archive segments. */
export function registerCompactCommands(program: Command): void {
  program
    .command('compact')
    .description('rotate streams into gzip segments of streams/archive/NAME/ (manifest keeps cursors valid; read and query see through them)')
    .argument('[streams...]', 'streams to compact (default: all)')
    .addOption(new Option('--dir <dir>', 'store folder').env('FRAMELOG_DIR').default('.framelog'))
    .option('--max-bytes <n>', 'only rotate a live file of at least n bytes')
    .option('--max-age <age>', 'only rotate a live file whose first record is older than this (30s, 15m, 6h, 7d)')
    .option('--max-lines <n>', 'only rotate a live file of at least n records (caps its line count)')
    .option('--evict-older-than <age>', 'then delete segments whose last record is older than this (kept in the manifest as evicted)')
    .option('--no-gzip', 'write segments as plain NDJSON')
    .action(run(async (streams: string[], opts: { dir: string; maxBytes?: string; maxAge?: string; maxLines?: string; evictOlderThan?: string; gzip: boolean }) => {
      const names = streams.length > 0 ? streams : listStreams(opts.dir).map((s) => s.name);
      const maxBytes = opts.maxBytes === undefined ? undefined : whole(opts.maxBytes, '--max-bytes');
      const maxAgeMs = opts.maxAge === undefined ? undefined : age(opts.maxAge, '--max-age');
      const maxLines = opts.maxLines === undefined ? undefined : whole(opts.maxLines, '--max-lines');
      const evictOlderThanMs = opts.evictOlderThan === undefined ? undefined : age(opts.evictOlderThan, '--evict-older-than');
      for (const name of names) {
        const r = compactStream(opts.dir, name, { gzip: opts.gzip, ...(maxBytes !== undefined ? { maxBytes } : {}), ...(maxAgeMs !== undefined ? { maxAgeMs } : {}), ...(maxLines !== undefined ? { maxLines } : {}), ...(evictOlderThanMs !== undefined ? { evictOlderThanMs } : {}) });
        const rule = loadArchiveByKeyRule(opts.dir, name); // plan streams.NAME.archiveByKey: finished lifecycles
        const keyed = rule ? (await archiveEndedKeys(opts.dir, name, rule)).map((k) => ({ key: k.key, file: k.file, count: k.count })) : [];
        process.stdout.write(JSON.stringify({ stream: name, segment: r.segment ?? null, recovered: r.recovered, evicted: r.evicted ?? [], keyed }) + '\n');
      }
    }));
}

function whole(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new StreamError('BAD_FILTER', `${what} ${JSON.stringify(text)} is not a whole number ≥ 0`);
  return Number(text);
}

function age(text: string, what: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new StreamError('BAD_FILTER', `${what} ${JSON.stringify(text)} is not a number with a unit (ms, s, m, h, d), e.g. 7d`);
  return Number(m[1]) * UNITS[m[2]!]!;
}
