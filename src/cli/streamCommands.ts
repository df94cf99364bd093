import fs from 'node:fs';
import { Command, Option } from 'commander';
import { action, out, readStdin } from './output.js';
import {
  DEFAULT_MAX_RECORD_BYTES,
  StreamError,
  encodeRecords,
  listStreams,
  openStreamAppender,
  parseJsonArgument,
  parseNdjsonInput,
  parseWhere,
  compileRecordFilter,
  readManifest,
  readStream,
  loadStreamSchema,
  checkRecordsForAppend,
  tailThrough,
  followThrough,
  requireInstant,
  scanStreamBatches,
  streamPaths,
  tailStream,
  type CorruptLine,
  type Durability,
  type RecordFilterSpec,
  type ScannedRecord,
  type StreamRecordInput,
} from '../stream/index.js';

/**
 * Adds the stream commands to a commander program: `append`, `read`, `tail` and `streams`.
 * Errors print `framelog: <one line>` on stderr and set exit code 1.
 */
export function registerStreamCommands(program: Command): void {
  program
    .command('append')
    .description('append records to stream STREAM: one JSON object, or NDJSON on stdin (- or nothing); all or none')
    .argument('<stream>', 'stream name: 1–128 of A-Z a-z 0-9 . _ -')
    .argument('[json]', 'one JSON object, or - to read NDJSON from stdin (the default)')
    .addOption(dirOption())
    .addOption(new Option('--durability <mode>', 'fsync: resolve after fdatasync; batch: group commit; none: no sync').choices(['fsync', 'batch', 'none']).default('fsync'))
    .option('--max-record-bytes <n>', 'largest record in bytes', String(DEFAULT_MAX_RECORD_BYTES))
    .option('--json', 'print {"stream","appended","cursor","next"}')
    .action(run(async (stream: string, json: string | undefined, opts: { dir: string; durability: Durability; maxRecordBytes: string; json?: boolean }) => {
      const paths = streamPaths(opts.dir, stream);
      const max = wholeNumber(opts.maxRecordBytes, '--max-record-bytes');
      const records = json === undefined || json === '-' ? parseNdjsonInput(await readStdin(), 'stdin') : [parseJsonArgument(json, 'argument')];
      const schema = loadStreamSchema(opts.dir, stream);
      if (schema && records.length > 50_000) checkRecordsForAppend(schema, records); // all or none, before the first slice
      const appender = openStreamAppender(opts.dir, stream, {
        ...(schema ? { schema } : {}),
        durability: opts.durability,
        maxRecordBytes: max,
        onFragment: (f) => process.stderr.write(`framelog: moved a torn tail of ${f.length} bytes at byte ${f.offset} of ${f.file} to ${f.bytes}\n`),
      });
      try {
        const result = await appendAll(appender.appendBatch.bind(appender), records);
        if (opts.json) await out(JSON.stringify({ stream, file: paths.relativeFile, appended: records.length, cursor: result.cursor, next: result.next }) + '\n');
        else await out(`appended ${records.length} record${records.length === 1 ? '' : 's'} to ${paths.relativeFile} (cursor ${result.cursor}, next ${result.next})\n`);
      } finally {
        await appender.close();
      }
    }));

  program
    .command('read')
    .description('print the records of STREAM as NDJSON, filtered')
    .argument('<stream>', 'stream name')
    .addOption(dirOption())
    .option('--since <cursor|time>', 'start at a cursor (byte offset from --cursors) or at an RFC 3339 time (inclusive)')
    .option('--until <time>', 'only records before this RFC 3339 time')
    .option('--type <type>', 'only records whose "type" is this (repeat for any of several)', collect, [])
    .option('--where <field=value>', 'only records whose field (dotted path) equals value, as JSON or else as text (repeat: all must hold)', collect, [])
    .option('--cursors', 'print {"cursor","next","record"} per record instead of the bare record')
    .option('--strict', 'exit 1 when a corrupt line was skipped')
    .action(run(async (stream: string, opts: { dir: string; since?: string; until?: string; type: string[]; where: string[]; cursors?: boolean; strict?: boolean }) => {
      const paths = existingStream(opts.dir, stream);
      const filter: RecordFilterSpec = {
        types: opts.type,
        where: opts.where.map(parseWhere),
        ...(opts.until !== undefined ? { until: requireInstant(opts.until, '--until') } : {}),
      };
      let from = 0;
      let since: number | undefined;
      if (opts.since !== undefined) {
        if (/^\d+$/.test(opts.since)) from = wholeNumber(opts.since, '--since');
        else since = requireInstant(opts.since, '--since');
      }
      const counter = corruptReporter();
      if (readManifest(opts.dir, stream)) {
        // Compacted: read through the archive segments; cursors are stream cursors.
        const keep = compileRecordFilter({ ...filter, ...(since !== undefined ? { since } : {}) });
        for await (const e of readStream(opts.dir, stream, { from, schema: false, onCorrupt: counter.report })) {
          if (keep && !keep(e.record)) continue;
          const line = JSON.stringify(e.record);
          await out(opts.cursors ? `{"cursor":${e.cursor},"next":${e.next},"record":${line}}\n` : line + '\n');
        }
        return counter.finish(paths.file, opts.strict === true);
      }
      const scan = scanStreamBatches(paths.file, { from, filter: { ...filter, ...(since !== undefined ? { since } : {}) }, onCorrupt: counter.report });
      for (;;) {
        const step = await scan.next();
        if (step.done) break;
        await out(render(step.value, opts.cursors === true));
      }
      counter.finish(paths.file, opts.strict === true);
    }));

  program
    .command('tail')
    .description('print the last N records of STREAM (read backwards from its end); -f keeps following')
    .argument('<stream>', 'stream name')
    .addOption(dirOption())
    .option('-n, --lines <n>', 'how many records', '10')
    .option('-f, --follow', 'keep printing new records, also across a replacement of the file')
    .option('--cursors', 'print {"cursor","next","record"} per record instead of the bare record')
    .action(run(async (stream: string, opts: { dir: string; lines: string; follow?: boolean; cursors?: boolean }) => {
      const n = wholeNumber(opts.lines, '-n');
      const counter = corruptReporter();
      const paths = opts.follow ? streamPaths(opts.dir, stream) : existingStream(opts.dir, stream);
      let end = 0;
      const compacted = readManifest(opts.dir, stream) !== undefined;
      if (compacted) {
        // Through the archive segments, with stream cursors.
        const tail = await tailThrough(opts.dir, stream, n, counter.report);
        await out(render(tail.records, opts.cursors === true));
        end = tail.end;
      } else if (fs.existsSync(paths.file)) {
        const tail = tailStream(paths.file, n, { onCorrupt: counter.report });
        await out(render(tail.records, opts.cursors === true));
        end = tail.end;
      }
      if (!opts.follow) return counter.finish(paths.file, false);
      const stop = new AbortController();
      const quit = () => stop.abort();
      process.once('SIGINT', quit);
      process.once('SIGTERM', quit);
      process.stdout.once('error', quit);
      const batch: ScannedRecord[] = [];
      // followThrough keeps stream cursors across compactions (a swapped file is not read twice).
      for await (const rec of followThrough(opts.dir, stream, {
        from: end,
        signal: stop.signal,
        onCorrupt: counter.report,
        onRestart: (why) => process.stderr.write(`framelog: ${paths.file} was ${why}; following it from its start\n`),
      })) {
        batch[0] = rec;
        await out(render(batch, opts.cursors === true));
      }
    }));

  program
    .command('streams')
    .description('list the streams of the store: name, records, bytes, last record time')
    .addOption(dirOption())
    .option('--json', 'print a JSON array of {"name","records","bytes","lastTs"}')
    .action(run(async (opts: { dir: string; json?: boolean }) => {
      const list = listStreams(opts.dir);
      if (opts.json) return out(JSON.stringify(list) + '\n');
      if (list.length === 0) return out(`no streams in ${opts.dir}/streams\n`);
      const rows = [['NAME', 'RECORDS', 'BYTES', 'LAST'], ...list.map((s) => [s.name, String(s.records), String(s.bytes), s.lastTs ?? '-'])];
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      const lines = rows.map((r, i) => {
        const text = r.map((cell, c) => (c === 1 || c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
        return i === 0 ? bold(text) : text;
      });
      return out(lines.join('\n') + '\n');
    }));
}

function dirOption(): Option {
  return new Option('--dir <dir>', 'store folder').env('FRAMELOG_DIR').default('.framelog');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The stream commands' runner: the CLI's one {@link action}. */
export const run = action;

function existingStream(dir: string, stream: string) {
  const paths = streamPaths(dir, stream);
  if (!fs.existsSync(paths.file)) {
    throw new StreamError('NOT_FOUND', `no stream "${stream}" in ${dir} (no file ${paths.relativeFile}): append to create it, or check --dir`);
  }
  return paths;
}

function wholeNumber(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new StreamError('BAD_FILTER', `${what} ${JSON.stringify(text)} is not a whole number ≥ 0`);
  return n;
}

type AppendBatch = (records: readonly StreamRecordInput[]) => Promise<{ cursor: number; next: number }>;

/** One write when the input is small; else all records are validated first, then written in slices. */
async function appendAll(appendBatch: AppendBatch, records: StreamRecordInput[]): Promise<{ cursor: number; next: number }> {
  const slice = 50_000;
  if (records.length <= slice) return appendBatch(records);
  encodeRecords(records); // throws before anything is written
  let first: { cursor: number; next: number } | undefined;
  let last = { cursor: -1, next: -1 };
  for (let i = 0; i < records.length; i += slice) {
    last = await appendBatch(records.slice(i, i + slice));
    first ??= last;
  }
  return { cursor: first!.cursor, next: last.next };
}

function render(records: readonly ScannedRecord[], cursors: boolean): string {
  let text = '';
  for (const r of records) {
    text += cursors ? `{"cursor":${r.cursor},"next":${r.next},"record":${r.line}}\n` : r.line + '\n';
  }
  return text;
}

function corruptReporter() {
  let count = 0;
  return {
    report: (c: CorruptLine): void => {
      count++;
      process.stderr.write(`framelog: ${c.file}:${c.line} (byte ${c.offset}, ${c.length} bytes): corrupt line skipped: ${c.reason}\n`);
    },
    finish(file: string, strict: boolean): void {
      if (count === 0) return;
      process.stderr.write(`framelog: ${count} corrupt line${count === 1 ? '' : 's'} skipped in ${file}\n`);
      if (strict) process.exitCode = 1;
    },
  };
}


function bold(text: string): string {
  return process.stdout.isTTY && !process.env.NO_COLOR ? `\u001b[1m${text}\u001b[22m` : text;
}
