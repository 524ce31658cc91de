/**
 * Time in alphalake: instants are epoch **microseconds** (UTC) in a JS `number`. A double
 * holds every integer up to 2^53 − 1 exactly, which in µs reaches 2255-06-05, so the hot
 * path (simulator, bus, speed store, bar folding, the lake's typed arrays) does plain
 * arithmetic with no BigInt; Delta's `timestamp` is µs too (PROTOCOL.md "Primitive
 * Types"), so nothing is lost between the domain and the lake. See docs/time.md.
 */

/** Microseconds per unit: the domain's time unit is the epoch microsecond. */
export const MILLISECOND_US = 1_000;
export const SECOND_US = 1_000_000;
export const MINUTE_US = 60_000_000;
export const HOUR_US = 3_600_000_000;
export const DAY_US = 86_400_000_000;

/** Start of the minute holding `ts` (epoch µs). */
export function floorToMinute(ts: number): number {
  return Math.floor(ts / MINUTE_US) * MINUTE_US;
}

/** Epoch µs of a `Date` (which holds whole milliseconds). */
export function microsOfDate(date: Date): number {
  return date.getTime() * MILLISECOND_US;
}

/** Epoch µs → epoch ms, floored (what `Date` and timers take). */
export function millisOfMicros(ts: number): number {
  return Math.floor(ts / MILLISECOND_US);
}

/**
 * ISO 8601 in UTC of an instant in epoch µs: `2024-03-01T09:30:09.292971Z` when it has
 * sub-millisecond digits, `2024-03-01T09:30:09.292Z` when it has none (the form `Date`
 * prints, so whole-millisecond values read as before).
 */
export function isoOfMicros(ts: number): string {
  const ms = Math.floor(ts / MILLISECOND_US);
  const iso = new Date(ms).toISOString();
  const extra = ts - ms * MILLISECOND_US;
  return extra === 0 ? iso : `${iso.slice(0, -1)}${String(extra).padStart(3, '0')}Z`;
}

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Epoch µs of ISO 8601 text (`2024-03-01T09:30:09.292971Z`; a date alone is midnight UTC;
 * no zone means UTC), or undefined when the text is not such an instant, names a
 * day that does not exist, or has non-zero digits below the microsecond (they would be lost).
 */
export function parseIsoMicros(text: string): number | undefined {
  const match = ISO_INSTANT.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, sec, fraction = '', zone] = match;
  const fields = [y, mo, d, h ?? '0', mi ?? '0', sec ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [year, month, day, hour, minute, second] = fields;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year); // Date.UTC reads years 0–99 as 1900–1999
  if (date.getUTCDate() !== day) return undefined;
  const ms = date.getTime();
  if (/[1-9]/.test(fraction.slice(6))) return undefined;
  let micros = ms * MILLISECOND_US + Number(fraction.slice(0, 6).padEnd(6, '0'));
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const offset =
      (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * MINUTE_US;
    micros -= zone.startsWith('-') ? -offset : offset;
  }
  return Number.isSafeInteger(micros) ? micros : undefined;
}
