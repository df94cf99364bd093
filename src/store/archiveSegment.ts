import { FramelogError } from '../errors.js';

/** One archived delta: the name it had in the inbox and its bytes exactly as received. */
export interface SegmentEntry {
  name: string;
  bytes: Uint8Array;
}

/** The archive segment of merge `frame`, relative to the store root (PROTOCOL §5, v1.1). */
export function segmentName(frame: number): string {
  return `archive/merge-${String(frame).padStart(9, '0')}.ndjson`;
}

/** A segment file's name in `archive/`, and the merge frame it holds. */
export const SEGMENT_FILE = /^merge-(\d{9})\.ndjson$/;

const LF = 10, CR = 13, OPEN = 0x7b, CLOSE = 0x7d;

/** True when the bytes can stand inside a line as they are: one JSON object, no line break. */
function inlineable(b: Uint8Array): boolean {
  if (b.length < 2 || b[0] !== OPEN || b[b.length - 1] !== CLOSE) return false;
  return b.indexOf(LF) < 0 && b.indexOf(CR) < 0;
}

/**
 * The bytes of a segment: one line per delta, in the order given. A delta that is one line of
 * JSON (what `put -`, the library and the transports send) is written as it came:
 * `{"name":"…","delta":{…}}`, so `jq -c .delta archive/merge-*.ndjson` prints the deltas. A delta
 * with line breaks or around white space (a pretty-printed file) is kept as a JSON string:
 * `{"name":"…","text":"…"}` (`jq '.text | fromjson'`). Either way the bytes come back exactly.
 */
export function encodeSegment(entries: readonly SegmentEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const head = `{"name":${JSON.stringify(e.name)},`;
    const b = Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
    if (inlineable(b)) parts.push(Buffer.from(head + '"delta":'), b, Buffer.from('}\n'));
    else parts.push(Buffer.from(head + '"text":' + JSON.stringify(b.toString('utf8')) + '}\n'));
  }
  return Buffer.concat(parts);
}

const HEAD = /^\{"name":("(?:[^"\\]|\\.)*"),"(delta|text)":/;

/** Reads a segment back into its entries; throws naming `where` and the line on bytes that are no segment line. */
export function decodeSegment(buf: Buffer, where: string): SegmentEntry[] {
  const out: SegmentEntry[] = [];
  let start = 0;
  let line = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(LF, start);
    if (nl < 0) nl = buf.length;
    line++;
    const bad = (): never => {
      throw new FramelogError(`${where}:${line}: not an archive segment line`, 'corrupt-archive');
    };
    // The head is short: decode only enough of the line to read it.
    const headText = buf.toString('utf8', start, Math.min(nl, start + 1024));
    const m = HEAD.exec(headText);
    if (!m || buf[nl - 1] !== CLOSE) bad();
    let name: string;
    try {
      name = JSON.parse(m![1]) as string;
    } catch {
      return bad();
    }
    const bodyStart = start + Buffer.byteLength(m![0]);
    if (m![2] === 'delta') out.push({ name, bytes: buf.subarray(bodyStart, nl - 1) });
    else {
      let text: unknown;
      try {
        text = JSON.parse(buf.toString('utf8', bodyStart, nl - 1));
      } catch {
        return bad();
      }
      if (typeof text !== 'string') bad();
      out.push({ name, bytes: Buffer.from(text as string, 'utf8') });
    }
    start = nl + 1;
  }
  return out;
}
