import { AlphalakeError } from '../domain/index.js';
import type { Topic } from './bus.js';
import { corrupt } from './codec-bytes.js';
import {
  BAR_SCHEMA,
  COLUMNAR_FORMAT,
  QUOTE_SCHEMA,
  TRADE_CONDITIONS_SCHEMA,
  TRADE_NANOS_SCHEMA,
  TRADE_SCHEMA,
  VENDOR_BAR_SCHEMA,
  decodeColumnar,
  encodeColumnar,
  type ColumnarSchema,
} from './codec-columnar.js';

/**
 * Record encodings on the bus. Every message value starts with one format byte, so a
 * consumer decodes whatever a producer of any version wrote, and a topic can change
 * encoding while old messages are still in it:
 *
 * - 1, JSON v1: a UTF-8 JSON array of records (one record a message, or several).
 *   Finite numbers round-trip exactly (ECMA-262 Number::toString is the shortest exact
 *   form); NaN, ±Infinity and −0 do not, and a `bigint` is refused.
 * - 2, columnar v1 (codec-columnar.ts): many trades, quotes or bars of one key in one
 *   message, column by column, numbers exact (trades with `tsNanos` as columnar kind 4,
 *   bars with their `source` as kind 5).
 * - 3, JSON v2: as JSON v1, but a `bigint` (`Trade.tsNanos`) is written as
 *   `{"$bigint":"<decimal>"}` and read back as a `bigint`. A producer writes v2 only for a
 *   message that holds a bigint, so v1 stays what every other message is.
 *
 * News and rejects have no columnar schema and are always JSON.
 */
export type Encoding = 'json' | 'columnar';

export const JSON_FORMAT = 1;
export const JSON_BIGINT_FORMAT = 3;

export interface RecordCodec {
  readonly encoding: Encoding;
  /** One message value holding `records`, in order. */
  encode(records: readonly unknown[]): Buffer;
  /** The records of one message value, in order. */
  decode(value: Buffer): unknown[];
}

/** Each topic's columnar schemas: the first is written unless a record needs a later one. */
const COLUMNAR: Partial<Record<Topic, readonly ColumnarSchema<unknown>[]>> = {
  trades: [TRADE_SCHEMA, TRADE_NANOS_SCHEMA, TRADE_CONDITIONS_SCHEMA],
  quotes: [QUOTE_SCHEMA],
  bars: [BAR_SCHEMA, VENDOR_BAR_SCHEMA],
};

/**
 * The oldest schema that carries every field the records have: each later schema of a
 * topic adds fields to the one before (trades: `tsNanos` in kind 4, `conditions` in kind
 * 6; bars: `source` in kind 5), so a batch without them stays readable by consumers of
 * older versions.
 */
function schemaFor(
  schemas: readonly ColumnarSchema<unknown>[],
  records: readonly unknown[],
): ColumnarSchema<unknown> {
  const added = schemas.map((schema, i) => {
    if (i === 0) return [];
    const before = new Set(schemas[i - 1]!.fields.map((f) => f.name));
    return schema.fields.filter((f) => !before.has(f.name)).map((f) => f.name);
  });
  let needed = 0;
  for (const record of records) {
    const fields = record as Record<string, unknown>;
    for (let i = schemas.length - 1; i > needed; i--) {
      if (added[i]!.some((name) => fields[name] !== undefined)) {
        needed = i;
        break;
      }
    }
  }
  return schemas[needed]!;
}

/** The codec that writes `topic`'s messages in `encoding` (JSON where a topic has no columns). */
export function codecFor(topic: Topic, encoding: Encoding): RecordCodec {
  const schemas = COLUMNAR[topic];
  if (encoding === 'columnar' && schemas) {
    return {
      encoding,
      encode: (records) => encodeColumnar(schemaFor(schemas, records), records),
      decode: (value) => decodeMessage(topic, value),
    };
  }
  return {
    encoding: 'json',
    encode: (records) => encodeJson(topic, records),
    decode: (value) => decodeMessage(topic, value),
  };
}

/** Decodes a message of `topic` in any format this version knows. */
export function decodeMessage(topic: Topic, value: Buffer): unknown[] {
  const format = value[0];
  if (format === JSON_FORMAT || format === JSON_BIGINT_FORMAT) {
    let records: unknown;
    try {
      records =
        format === JSON_FORMAT
          ? JSON.parse(value.toString('utf8', 1))
          : JSON.parse(value.toString('utf8', 1), reviveBigint);
    } catch (error) {
      throw corrupt(`invalid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(records)) throw corrupt('a JSON message is not an array of records');
    return records;
  }
  if (format === COLUMNAR_FORMAT) {
    const schemas = COLUMNAR[topic];
    if (!schemas) throw corrupt(`a columnar message on ${topic}, which has no columnar schema`);
    const schema = schemas.find((s) => s.kind === value[1]) ?? schemas[0]!;
    return decodeColumnar(schema, value);
  }
  throw corrupt(
    format === undefined ? 'an empty message' : `unknown format byte ${format} on ${topic}`,
  );
}

/** JSON v2's form of a bigint. */
function replaceBigint(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { $bigint: value.toString() } : value;
}

function reviveBigint(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const text = (value as { $bigint?: unknown }).$bigint;
    if (keys.length === 1 && typeof text === 'string' && /^-?\d+$/.test(text)) return BigInt(text);
  }
  return value;
}

function encodeJson(topic: Topic, records: readonly unknown[]): Buffer {
  let json: string;
  let format = JSON_FORMAT;
  try {
    try {
      json = JSON.stringify(records);
    } catch (error) {
      // JSON has no bigint: such a message is written as JSON v2 (format 3).
      if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw error;
      json = JSON.stringify(records, replaceBigint);
      format = JSON_BIGINT_FORMAT;
    }
  } catch (error) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `a ${topic} record cannot be written as JSON: ${(error as Error).message}`,
      { topic },
      { cause: error },
    );
  }
  const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(json, 'utf8'));
  bytes[0] = format;
  bytes.write(json, 1, 'utf8');
  return bytes;
}
