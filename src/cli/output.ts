import { readFileSync } from 'node:fs';
import { ndjsonLines } from '../delta/ndjsonLines.js';
import { FramelogError } from '../errors.js';
import { StreamError } from '../stream/StreamError.js';
import { oneLine } from '../delta/validateDelta.js';

/** True when colour may be used on `stream`: a TTY, and `NO_COLOR` unset. */
export function useColour(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

const wrap = (code: number, end: number) => (text: string, stream?: NodeJS.WriteStream): string =>
  useColour(stream) ? `\u001b[${code}m${text}\u001b[${end}m` : text;

/** ANSI styles that turn themselves off without a TTY or with `NO_COLOR`. */
export const style = { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };

/** Writes one line per value as NDJSON. */
export function printNdjson(values: Iterable<unknown>): void {
  let out = '';
  for (const v of values) {
    out += JSON.stringify(v) + '\n';
    if (out.length > 1 << 16) {
      process.stdout.write(out);
      out = '';
    }
  }
  if (out) process.stdout.write(out);
}

/** Parses a frame number argument, naming the option on a bad one. */
export function parseFrame(text: string, what: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new FramelogError(`${what}: not a frame number: ${JSON.stringify(text)} (want an integer ≥ 0)`, 'bad-argument');
  return Number(text);
}

/** Parses a count argument (`--frames`, `--writers`…): one rule and one message for every bad value. */
export function parseCount(text: string, what: string, min = 1): number {
  const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new FramelogError(`${what}: ${JSON.stringify(text)} is not a whole number ≥ ${min}`, 'bad-argument');
  return n;
}

/** Thrown when the reader of our output went away (`| head`): the command stops quietly. */
export class OutputClosed extends Error {}
let outputClosed = false;

/** Writes to stdout, waiting when the pipe is full; rejects with {@link OutputClosed} once the reader left. */
export function out(text: string): Promise<void> {
  if (outputClosed) return Promise.reject(new OutputClosed());
  if (text.length === 0) return Promise.resolve();
  if (process.stdout.listenerCount('error') === 0) {
    process.stdout.on('error', () => {
      outputClosed = true;
      process.stdout.emit('drain');
    });
  }
  return new Promise((resolve, reject) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', () => (outputClosed ? reject(new OutputClosed()) : resolve()));
  });
}

/**
 * The one line a command prints for an error: a {@link FramelogError} or {@link StreamError} says
 * its own message; a system error names its code once, the call and the file
 * (`EMFILE: too many open files, open 'x'`), never `EMFILE: EMFILE: …`.
 */
export function errorLine(e: unknown): string {
  const err = e as Error & { code?: unknown };
  if (e instanceof FramelogError || e instanceof StreamError) return oneLine(err.message);
  const code = typeof err.code === 'string' ? err.code : '';
  const message = oneLine(String(err.message ?? e));
  return code && !message.startsWith(`${code}:`) && !message.includes(`[${code}]`) ? `${code}: ${message}` : message;
}

/**
 * Runs a command body: a {@link FramelogError} becomes `framelog: message` and its exit status
 * (the error table); a {@link StreamError} exits 1; anything else is a bug or an I/O failure,
 * reported in one line (stack with FRAMELOG_DEBUG), exit 2. A reader that went away (`| head`)
 * ends the command quietly.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof OutputClosed) return;
      process.stderr.write(`${style.red('framelog:', process.stderr)} ${errorLine(e)}\n`);
      if (e instanceof FramelogError) process.exitCode = e.exitCode;
      else if (e instanceof StreamError) process.exitCode = 1;
      else {
        if (process.env.FRAMELOG_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
        process.exitCode = 2;
      }
    }
  };
}

/** Reads all of standard input. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Splits NDJSON bytes into lines (without `\n` or a trailing `\r`), skipping blank ones. */
export const splitLines = ndjsonLines;

/**
 * The deltas of `framelog put FILES…`: each file whole, or with `-` each non-blank line of
 * standard input; each with where it came from (`FILE`, `stdin:LINE`) for error messages.
 */
export async function readDeltaInputs(files: readonly string[]): Promise<Array<{ bytes: Buffer; source: string }>> {
  const inputs: Array<{ bytes: Buffer; source: string }> = [];
  for (const f of files) {
    if (f === '-') {
      for (const { line, bytes } of ndjsonLines(await readStdin())) inputs.push({ bytes, source: `stdin:${line}` });
      continue;
    }
    try {
      inputs.push({ bytes: readFileSync(f), source: f });
    } catch (e) {
      throw new FramelogError(`${f}: cannot read (${(e as NodeJS.ErrnoException).code})`, 'bad-input');
    }
  }
  if (inputs.length === 0) throw new FramelogError('put: no deltas given', 'bad-input');
  return inputs;
}

/** A frame (`12`) or an inclusive range (`10..20`, `..20`, `10..`), as the query filters take them. */
export function frameRange(text: string | undefined, what: string): number | { from?: number; to?: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d*)\.\.(\d*)$/.exec(text);
  if (!m) return parseFrame(text, what);
  return { from: m[1] ? parseFrame(m[1], what) : undefined, to: m[2] ? parseFrame(m[2], what) : undefined };
}
