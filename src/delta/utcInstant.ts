const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses an RFC 3339 timestamp (with `Z` or an offset) to epoch milliseconds, truncating to
 * millisecond precision. Returns `undefined` when the text is not a valid RFC 3339 instant.
 * Timestamps are compared as instants, never as strings: `…:00.5Z` is later than `…:00Z`.
 */
export function parseUtcInstant(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const year = +m[1], month = +m[2], day = +m[3], hour = +m[4], minute = +m[5], second = +m[6];
  if (month < 1 || month > 12 || day < 1 || day > DAYS[month - 1]) return undefined;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return undefined;
  if (year < 1 || hour > 23 || minute > 59 || second > 60) return undefined; // year 0000 names no instant of the Gregorian calendar in use
  const ms = m[7] ? Math.floor(Number('0' + m[7]) * 1000 + 1e-6) : 0;
  let offsetMin = 0;
  const tz = m[8];
  if (tz !== 'Z' && tz !== 'z') {
    const oh = +tz.slice(1, 3), om = +tz.slice(4, 6);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (tz[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // A leap second (:60) is the last instant of its minute.
  const sec = second === 60 ? 59 : second;
  const msPart = second === 60 ? 999 : ms;
  // Date.UTC maps years 0–99 to 1900–1999, so set such a year separately (no Date object otherwise).
  let t: number;
  if (year >= 100) t = Date.UTC(year, month - 1, day, hour, minute, sec, msPart) - offsetMin * 60_000;
  else {
    const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, sec, msPart));
    d.setUTCFullYear(year);
    t = d.getTime() - offsetMin * 60_000;
  }
  if (!Number.isFinite(t)) return undefined;
  if (second === 60) {
    // A leap second is inserted only as 23:59:60 UTC on the last day of a month (June and
    // December so far): any other :60, once the offset is applied, names no instant.
    const u = new Date(t);
    const lastDay = new Date(Date.UTC(u.getUTCFullYear(), u.getUTCMonth() + 1, 0)).getUTCDate(); // years 1–99 read as 1901–1999: the same leap years
    if (u.getUTCHours() !== 23 || u.getUTCMinutes() !== 59 || u.getUTCDate() !== lastDay) return undefined;
  }
  return t;
}

/** Formats epoch milliseconds as an RFC 3339 UTC timestamp with milliseconds. */
export function formatUtc(ms: number): string {
  return new Date(ms).toISOString();
}
