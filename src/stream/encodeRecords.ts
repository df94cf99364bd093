import { parseInstant } from './parseInstant.js';
import { StreamError } from './StreamError.js';
import type { StreamRecordInput } from './StreamRecord.js';

/** The default largest record, in UTF-8 bytes without its newline: 16 MiB. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Records serialised as NDJSON text, ready for one `write`. */
export interface EncodedRecords {
  /** One line per record, each ending in `\n`. */
  readonly text: string;
  readonly count: number;
}

/**
 * Validates and serialises records to NDJSON: each must be a JSON object with finite numbers and
 * at most `maxRecordBytes` once serialised; `ts` (the `now` instant) is put first when absent, and
 * checked as RFC 3339 when present. Throws a `StreamError` naming the record's index on the first
 * bad one, so a batch is all or nothing.
 */
export function encodeRecords(
  records: readonly StreamRecordInput[],
  maxRecordBytes: number = DEFAULT_MAX_RECORD_BYTES,
  now: string = new Date().toISOString(),
): EncodedRecords {
  const tsPrefix = `{"ts":"${now}"`;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: below this length no byte count is needed.
  const safeLength = Math.floor(maxRecordBytes / 3);
  let text = '';
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      throw bad(i, records.length, `is ${describe(record)}, not a JSON object`);
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(record);
    } catch (err) {
      throw bad(i, records.length, `cannot be serialised as JSON (${(err as Error).message})`);
    }
    if (json === undefined || json.charCodeAt(0) !== 123 /* { */) {
      throw bad(i, records.length, 'does not serialise to a JSON object');
    }
    if (json.includes('null')) checkFinite(record, i, records.length);
    const ts = record['ts'];
    if (ts === undefined) {
      json = json.length === 2 ? tsPrefix + '}' : tsPrefix + ',' + json.slice(1);
    } else if (typeof ts !== 'string' || parseInstant(ts) === undefined) {
      throw bad(i, records.length, `has "ts" ${JSON.stringify(ts)}: it must be an RFC 3339 timestamp such as ${now}, or absent`);
    }
    if (json.length > safeLength) {
      const bytes = Buffer.byteLength(json);
      if (bytes > maxRecordBytes) {
        throw new StreamError(
          'RECORD_TOO_LARGE',
          `${which(i, records.length)} is ${bytes} bytes, over the limit of ${maxRecordBytes} bytes: split it or raise maxRecordBytes`,
        );
      }
    }
    text += json + '\n';
  }
  return { text, count: records.length };
}

// JSON.stringify writes NaN and ±Infinity as null: find them only when a null is in the output.
function checkFinite(value: unknown, index: number, total: number): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw bad(index, total, `holds the number ${value}: JSON numbers must be finite`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return;
  for (const v of Array.isArray(value) ? value : Object.values(value)) checkFinite(v, index, total);
}

function which(index: number, total: number): string {
  return total === 1 ? 'the record' : `record ${index + 1} of ${total}`;
}

function bad(index: number, total: number, why: string): StreamError {
  return new StreamError('BAD_RECORD', `${which(index, total)} ${why}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
