import { StreamError } from './StreamError.js';

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 timestamp (with `Z` or an offset) to epoch milliseconds, fractional digits
 * below the millisecond kept as a fraction, so `…:00.5Z` is later than `…:00Z` and `+02:00` is
 * converted. Returns `undefined` when `text` is not such a timestamp.
 */
export function parseInstant(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const year = +m[1]!;
  const month = +m[2]!;
  const day = +m[3]!;
  const hour = +m[4]!;
  const minute = +m[5]!;
  const second = +m[6]!;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59));
  if (year < 100) ms = shiftYear(ms, year);
  if (m[7] !== undefined) ms += Number(m[7]) * 1000;
  if (m[8] === undefined) {
    const offH = +m[10]!;
    const offM = +m[11]!;
    if (offH > 23 || offM > 59) return undefined;
    const off = (offH * 60 + offM) * 60_000;
    ms += m[9] === '+' ? -off : off;
  }
  return ms;
}

/** Like {@link parseInstant} but throws a `BAD_TIME` error naming `what`. */
export function requireInstant(text: string, what: string): number {
  const ms = parseInstant(text);
  if (ms === undefined) {
    throw new StreamError(
      'BAD_TIME',
      `${what} ${JSON.stringify(text)} is not an RFC 3339 timestamp: write it like 2026-04-19T14:30:22.120Z or with an offset (+02:00)`,
    );
  }
  return ms;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

// Date.UTC maps years 0–99 to 1900–1999.
function shiftYear(ms: number, year: number): number {
  const d = new Date(ms);
  d.setUTCFullYear(year);
  return d.getTime();
}
