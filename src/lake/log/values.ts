import { AlphalakeError } from '../../domain/index.js';
import { decimalOf, type ColumnType } from './schema.js';

/**
 * Conversions between the JS values the platform passes around and the Delta encodings:
 * partition values (PROTOCOL.md "Partition Value Serialization") and per-file statistics
 * ("Per-file Statistics").
 *
 * JS representation, per Delta type:
 * - `long`: `number` when within ±(2^53−1), else `bigint` (no precision is ever lost)
 * - `integer`/`short`/`byte`/`float`/`double`: `number`
 * - `decimal(p,s)`: `string` (exact, e.g. "12.30")
 * - `date`: `string` `YYYY-MM-DD`
 * - `timestamp` / `timestamp_ntz`: `LakeTimestamp` (exact epoch microseconds, PROTOCOL.md
 *   "Primitive Types": microsecond precision; ntz values count the wall clock as if UTC)
 * - `binary`: `Uint8Array`; `boolean`: `boolean`; `string`: `string`
 */
export type LakeValue =
  | string
  | number
  | bigint
  | boolean
  | LakeTimestamp
  | Date
  | Uint8Array
  | null;

const MICROS_PER_MS = 1000n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A `timestamp` or `timestamp_ntz` value read from the lake, exact to the microsecond
 * (a `Date` holds only milliseconds). `micros` counts from 1970-01-01T00:00:00 UTC, or for
 * `timestamp_ntz` from that wall-clock time. JSON and text give ISO 8601 with every digit:
 * `2024-03-01T09:30:09.292971Z` (ntz without the `Z`), three fractional digits when the
 * value is a whole millisecond.
 */
export class LakeTimestamp {
  constructor(
    readonly micros: bigint,
    readonly ntz = false,
  ) {}

  /** Epoch µs as a `number` (exact within ±(2^53−1) µs, the years 1685–2255); undefined beyond. */
  get epochMicros(): number | undefined {
    return this.micros <= MAX_SAFE && this.micros >= -MAX_SAFE ? Number(this.micros) : undefined;
  }

  toISOString(): string {
    return formatMicros(this.micros, !this.ntz);
  }

  toJSON(): string {
    return this.toISOString();
  }

  toString(): string {
    return this.toISOString();
  }

  /** The instant as a `Date`, floored to the millisecond (sub-millisecond digits are lost). */
  toDate(): Date {
    return microsToDate(this.micros);
  }
}

/**
 * Epoch microseconds of a JS value given for a timestamp column: a `LakeTimestamp`, a
 * `Date`, ISO text (every fractional digit up to µs kept), a number (epoch **µs**, an
 * integer) or a bigint (epoch µs).
 */
export function toEpochMicros(value: unknown): bigint {
  if (value instanceof LakeTimestamp) return value.micros;
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new AlphalakeError('BAD_USER_INPUT', 'invalid Date');
    return BigInt(ms) * MICROS_PER_MS;
  }
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `not a timestamp: ${value} (a number is epoch microseconds, an integer)`,
      );
    }
    return BigInt(value);
  }
  if (typeof value === 'string') return parseTimestampMicros(value);
  throw new AlphalakeError('BAD_USER_INPUT', `not a timestamp: ${String(value)}`);
}

/**
 * Parses `YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|±HH:MM]` to epoch microseconds, keeping
 * microseconds that `Date` would drop. A missing zone means UTC.
 */
export function parseTimestampMicros(text: string): bigint {
  const match =
    /^(-?\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(
      text.trim(),
    );
  if (!match) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new AlphalakeError('BAD_USER_INPUT', `not a timestamp: ${text}`);
    return BigInt(ms) * MICROS_PER_MS;
  }
  const [, y, mo, d, h, mi, s, frac, zone] = match;
  const ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h ?? 0),
    Number(mi ?? 0),
    Number(s ?? 0),
  );
  const date = new Date(ms);
  if (Number(y) >= 0 && Number(y) < 100) date.setUTCFullYear(Number(y));
  let micros = BigInt(date.getTime()) * MICROS_PER_MS;
  if (frac) micros += BigInt((frac + '000000').slice(0, 6));
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = BigInt(
      Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'),
    );
    micros -= sign * offsetMinutes * 60_000_000n;
  }
  return micros;
}

/** `Date` for epoch microseconds (sub-millisecond digits are dropped by `Date`). */
export function microsToDate(micros: bigint): Date {
  const ms = micros >= 0n ? micros / 1000n : -((-micros + 999n) / 1000n);
  return new Date(Number(ms));
}

/** ISO-8601 with microseconds: `2024-01-02T03:04:05.123456Z` (or without `Z` for ntz). */
export function formatMicros(micros: bigint, zone: boolean): string {
  const floorMs = micros >= 0n ? micros / 1000n : -((-micros + 999n) / 1000n);
  const iso = new Date(Number(floorMs)).toISOString();
  const extra = Number(micros - floorMs * 1000n);
  const withMicros = extra === 0 ? iso : `${iso.slice(0, -1)}${String(extra).padStart(3, '0')}Z`;
  return zone ? withMicros : withMicros.slice(0, -1);
}

/**
 * A lake value as JSON that any JSON parser reads without loss (I-JSON, RFC 7493 §2.2):
 * numbers stay numbers (NaN and ±Infinity, which JSON lacks, become the strings `"NaN"`,
 * `"Infinity"`, `"-Infinity"`); a `bigint` (a long beyond ±(2^53−1)) becomes the string of
 * its digits; decimals and dates are already exact strings; timestamps are ISO 8601 with
 * every digit (`LakeTimestamp.toISOString`); binary is base64; structs, arrays and maps
 * (arrays of `{key, value}`) keep their shape.
 */
export function lakeValueToJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof LakeTimestamp) return value.toISOString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(lakeValueToJson);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = lakeValueToJson(v);
    return out;
  }
  return value;
}

export function toDateString(value: unknown): string {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'string' && /^-?\d{4,}-\d{2}-\d{2}/.test(value))
    return value.slice(0, value.indexOf('-', 1) + 6);
  if (typeof value === 'number') return new Date(value * 86_400_000).toISOString().slice(0, 10);
  throw new AlphalakeError('BAD_USER_INPUT', `not a date: ${String(value)}`);
}

/** Days since the epoch of `YYYY-MM-DD`. */
export function dateToDays(text: string): number {
  const [y, m, d] = text.split(/(?<=\d)-/).map(Number);
  return Math.round(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1) / 86_400_000);
}

/** Normalizes an integral `long` value: number when safe, else bigint. */
export function normalizeLong(value: bigint | number): number | bigint {
  if (typeof value === 'number') return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value;
}

/**
 * Parses a serialized partition value into its JS value (PROTOCOL.md "Partition Value
 * Serialization"). `null` and missing mean null; for non-string types an empty string is null too.
 */
export function parsePartitionValue(type: ColumnType, raw: string | null | undefined): LakeValue {
  if (raw === null || raw === undefined) return null;
  if (typeof type !== 'string') {
    throw new AlphalakeError('UNSUPPORTED_TABLE_FEATURE', 'partition column of a nested type');
  }
  if (type === 'string') return raw;
  if (raw === '') return null;
  switch (type) {
    case 'long': {
      return normalizeLong(BigInt(raw));
    }
    case 'integer':
    case 'short':
    case 'byte':
    case 'double':
    case 'float':
      return Number(raw);
    case 'boolean':
      return raw.toLowerCase() === 'true';
    case 'date':
      return toDateString(raw);
    case 'timestamp':
      return new LakeTimestamp(parseTimestampMicros(raw));
    case 'timestamp_ntz':
      return new LakeTimestamp(parseTimestampMicros(raw), true);
    case 'binary':
      return Uint8Array.from(raw, (char) => char.charCodeAt(0));
  }
  if (decimalOf(type)) return raw;
  throw new AlphalakeError('UNSUPPORTED_TABLE_FEATURE', `partition column of type ${type}`);
}

/** Serializes a JS value as a partition value string (null stays null). */
export function serializePartitionValue(type: ColumnType, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'string':
      return String(value);
    case 'date':
      return toDateString(value);
    case 'timestamp':
    case 'timestamp_ntz': {
      // "{year}-{month}-{day} {hour}:{minute}:{second}.{microsecond}" — the protocol's form.
      const iso = formatMicros(toEpochMicros(value), false);
      return iso
        .replace('T', ' ')
        .replace(/\.(\d+)$/, (_, digits: string) => `.${digits.padEnd(6, '0')}`);
    }
    case 'boolean':
      return value ? 'true' : 'false';
    case 'binary':
      return String.fromCharCode(...(value as Uint8Array));
    default:
      return typeof value === 'bigint' || typeof value === 'number'
        ? value.toString()
        : String(value);
  }
}

/**
 * Hive-style escaping of a partition value in a directory name, as Spark and delta-rs do
 * (`%XX` for control characters and the characters Hive escapes); null is `__HIVE_DEFAULT_PARTITION__`.
 */
export function escapePartitionPathValue(value: string | null): string {
  if (value === null) return '__HIVE_DEFAULT_PARTITION__';
  if (value === '') return '__HIVE_DEFAULT_PARTITION__';
  let out = '';
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || '"#%\'*/:=?\\{[]^'.includes(char)) {
      out += `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    } else {
      out += char;
    }
  }
  return out;
}
