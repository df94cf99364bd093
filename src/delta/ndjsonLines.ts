/** One line of NDJSON bytes: its 1-based number and its bytes (without `\n` or a trailing `\r`). */
export interface NdjsonLine {
  line: number;
  bytes: Buffer;
}

/**
 * Splits NDJSON bytes into lines, skipping blank ones (spaces and tabs only), without decoding
 * them: each delta of a batch keeps its bytes exactly as received (PROTOCOL v1.1 §3).
 */
export function ndjsonLines(buf: Buffer): NdjsonLine[] {
  const out: NdjsonLine[] = [];
  let start = 0;
  for (let line = 1; start < buf.length; line++) {
    let nl = buf.indexOf(10, start);
    if (nl < 0) nl = buf.length;
    let end = nl;
    if (end > start && buf[end - 1] === 13) end--;
    const bytes = buf.subarray(start, end);
    if (bytes.some((b) => b !== 32 && b !== 9)) out.push({ line, bytes });
    start = nl + 1;
  }
  return out;
}
