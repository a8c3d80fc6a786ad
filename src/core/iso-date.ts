/** What a date must look like where gitprompts reads one, for messages. */
export const ISO_DATE_EXAMPLE = "2024-05-01 or 2024-05-01T12:00:00Z";

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2})))?$/;

/**
 * Reads a strict ISO 8601 date: a day, `2024-05-01` (its start, UTC), or a date-time with its
 * time zone, `2024-05-01T12:30Z`, `2024-05-01T12:30:00.123+02:00`. Returns the time in epoch
 * milliseconds, or undefined for anything else: `Date.parse` takes `1`, `May 1` or a time
 * without a zone (read in the server's zone) and rolls `2024-02-30` over to March, and a date
 * range must not mean something other than what was written.
 */
export function parseIsoDate(text: string): number | undefined {
  const match = ISO_DATE.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone, sign, zoneHour, zoneMinute] =
    match;
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, zh = 0, zm = 0] = [
    year,
    month,
    day,
    hour,
    minute,
    second,
    zoneHour,
    zoneMinute,
  ].map((part) => (part === undefined ? 0 : Number(part)));
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  if (h > 23 || mi > 59 || s > 59 || zh > 23 || zm > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(y, mo - 1, d);
  const millis = Number((fraction ?? "").padEnd(3, "0").slice(0, 3));
  date.setUTCHours(h, mi, s, millis);
  const offset = zone === undefined || zone === "Z" ? 0 : (sign === "-" ? -1 : 1) * (zh * 60 + zm);
  return date.getTime() - offset * 60_000;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
