import { FramelogError } from '../../errors.js';

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

/**
 * The commit line that ends a segment written by a merge (v1.1): what the merge appends to the
 * journals, so that the segment alone is the merge's durable commit and the journals can be
 * brought up to date from it after a crash. `jq 'select(.commit) | .commit.record'` reads it.
 */
export interface SegmentCommit {
  /** The merge record's line, exactly as in `journal/merges.ndjson`. */
  record: string;
  /** The merge's line of `journal/plans.ndjson` (with its newline), when the plan changed with it. */
  plan?: string;
  /** The merge's lines of `journal/conflicts.ndjson` and `journal/events.ndjson` (each line ends in a newline). */
  conflicts: string;
  events: string;
}

const COMMIT_HEAD = '{"commit":{';

const rawArray = (text: string): string => `[${text.length === 0 ? '' : text.slice(0, -1).split('\n').join(',')}]`;

/** The commit line of a segment (with its newline). The journal lines stand in it as JSON, not as strings. */
export function encodeCommitLine(c: SegmentCommit): string {
  return `${COMMIT_HEAD}"record":${c.record},"plan":${c.plan ? c.plan.trimEnd() : 'null'},"conflicts":${rawArray(c.conflicts)},"events":${rawArray(c.events)}}}\n`;
}

/**
 * The commit line of a segment, or undefined when it has none (a segment of an older version, or
 * one torn before its commit line was whole). Each journal line comes back byte for byte: they
 * were written by `JSON.stringify`, which prints a parsed object the same way again.
 */
export function readSegmentCommit(buf: Buffer): SegmentCommit | undefined {
  if (buf.length < 2 || buf[buf.length - 1] !== LF) return undefined;
  const start = buf.lastIndexOf(LF, buf.length - 2) + 1;
  if (buf.toString('latin1', start, start + COMMIT_HEAD.length) !== COMMIT_HEAD) return undefined;
  let v: { commit?: { record?: unknown; plan?: unknown; conflicts?: unknown; events?: unknown } };
  try {
    v = JSON.parse(buf.toString('utf8', start, buf.length - 1));
  } catch {
    return undefined;
  }
  const c = v.commit;
  if (!c || typeof c.record !== 'object' || c.record === null || !Array.isArray(c.conflicts) || !Array.isArray(c.events)) return undefined;
  const lines = (list: unknown[]): string => list.map((x) => JSON.stringify(x) + '\n').join('');
  return {
    record: JSON.stringify(c.record),
    ...(c.plan !== null && c.plan !== undefined ? { plan: JSON.stringify(c.plan) + '\n' } : {}),
    conflicts: lines(c.conflicts),
    events: lines(c.events),
  };
}

const HEAD = /^\{"name":("(?:[^"\\]|\\.)*"),"(delta|text)":/;

/** Reads a segment back into its entries (its commit line aside); throws naming `where` and the line on bytes that are no segment line. */
export function decodeSegment(buf: Buffer, where: string): SegmentEntry[] {
  const out: SegmentEntry[] = [];
  let start = 0;
  let line = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(LF, start);
    if (nl < 0) nl = buf.length;
    line++;
    if (nl === buf.length - 1 && buf.toString('latin1', start, start + COMMIT_HEAD.length) === COMMIT_HEAD) break; // the commit line
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
