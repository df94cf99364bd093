import { isUtf8 } from 'node:buffer';
import { StreamError } from './StreamError.js';
import type { StreamRecordInput } from './StreamRecord.js';
import { duplicateKeyOf, negativeZeroOf } from '../delta/duplicateKeys.js';

/**
 * Refuses what a record would silently lose on its way into the stream: a name given twice in one
 * object (`JSON.parse` keeps the last; I-JSON, RFC 7493, forbids it) and a `-0` (written back as
 * `0`, its sign lost).
 */
function refuseLossy(text: string, value: unknown, where: string): void {
  const dup = duplicateKeyOf(text, value);
  if (dup !== undefined) throw new StreamError('BAD_RECORD', `${where}: duplicate key ${JSON.stringify(dup)}: a name appears twice in one object (I-JSON, RFC 7493); the stream would keep only the last`);
  if (text.includes('-0')) {
    const z = negativeZeroOf(value);
    if (z !== undefined) throw new StreamError('BAD_RECORD', `${where}: -0 at ${z}: JSON writes it as 0, so the stream would lose its sign; give 0 (or a string)`);
  }
}

/**
 * Parses NDJSON text given by a person or a program (one JSON object per line; blank lines are
 * skipped) into records for `append`, refusing the whole input on the first bad line: invalid
 * UTF-8, a line that does not parse, or a value that is not an object. `source` names the input
 * in messages (`stdin`, `argument`).
 */
export function parseNdjsonInput(input: Buffer, source: string): StreamRecordInput[] {
  if (!isUtf8(input)) {
    throw new StreamError('BAD_RECORD', `${source}: ${where(input, firstInvalidUtf8Line(input))} is not valid UTF-8`);
  }
  const records: StreamRecordInput[] = [];
  let pos = 0;
  let line = 0;
  const multi = input.indexOf(10) !== -1 && input.indexOf(10) < input.length - 1;
  while (pos < input.length) {
    let nl = input.indexOf(10, pos);
    if (nl === -1) nl = input.length;
    line++;
    const text = input.toString('utf8', pos, nl);
    pos = nl + 1;
    if (/^[ \t\r]*$/.test(text)) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new StreamError('BAD_RECORD', `${source}${multi ? ` line ${line}` : ''}: not JSON (${oneLine((err as Error).message)})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      throw new StreamError('BAD_RECORD', `${source}${multi ? ` line ${line}` : ''}: got ${kind}; a record must be a JSON object`);
    }
    refuseLossy(text, value, `${source}${multi ? ` line ${line}` : ''}`);
    records.push(value as StreamRecordInput);
  }
  if (records.length === 0) throw new StreamError('BAD_RECORD', `${source}: no record given (empty input)`);
  return records;
}

/** Parses one JSON object given whole (a command-line argument may span lines). */
export function parseJsonArgument(text: string, source: string): StreamRecordInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StreamError('BAD_RECORD', `${source}: not JSON (${oneLine((err as Error).message)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new StreamError('BAD_RECORD', `${source}: got ${kind}; a record must be a JSON object`);
  }
  refuseLossy(text, value, source);
  return value as StreamRecordInput;
}

function firstInvalidUtf8Line(input: Buffer): number {
  let pos = 0;
  let line = 1;
  while (pos < input.length) {
    let nl = input.indexOf(10, pos);
    if (nl === -1) nl = input.length;
    if (!isUtf8(input.subarray(pos, nl))) return line;
    pos = nl + 1;
    line++;
  }
  return line;
}

function where(input: Buffer, line: number): string {
  return input.indexOf(10) === -1 ? 'input' : `line ${line}`;
}

function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = message.replace(/\s+/g, ' ').replace(/[\x00-\x1f\x7f]/g, '?');
  return flat.length > 160 ? flat.slice(0, 160) + '…' : flat;
}
