import { AlphalakeError } from '../domain/index.js';
import type { Topic } from './bus.js';
import { corrupt } from './codec-bytes.js';
import {
  BAR_SCHEMA,
  COLUMNAR_FORMAT,
  QUOTE_SCHEMA,
  TRADE_SCHEMA,
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
 *   message, column by column, numbers exact.
 *
 * News and rejects have no columnar schema and are always JSON.
 */
export type Encoding = 'json' | 'columnar';

export const JSON_FORMAT = 1;

export interface RecordCodec {
  readonly encoding: Encoding;
  /** One message value holding `records`, in order. */
  encode(records: readonly unknown[]): Buffer;
  /** The records of one message value, in order. */
  decode(value: Buffer): unknown[];
}

const COLUMNAR: Partial<Record<Topic, ColumnarSchema<unknown>>> = {
  trades: TRADE_SCHEMA,
  quotes: QUOTE_SCHEMA,
  bars: BAR_SCHEMA,
};

/** The codec that writes `topic`'s messages in `encoding` (JSON where a topic has no columns). */
export function codecFor(topic: Topic, encoding: Encoding): RecordCodec {
  const schema = COLUMNAR[topic];
  if (encoding === 'columnar' && schema) {
    return {
      encoding,
      encode: (records) => encodeColumnar(schema, records),
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
  if (format === JSON_FORMAT) {
    let records: unknown;
    try {
      records = JSON.parse(value.toString('utf8', 1));
    } catch (error) {
      throw corrupt(`invalid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(records)) throw corrupt('a JSON message is not an array of records');
    return records;
  }
  if (format === COLUMNAR_FORMAT) {
    const schema = COLUMNAR[topic];
    if (!schema) throw corrupt(`a columnar message on ${topic}, which has no columnar schema`);
    return decodeColumnar(schema, value);
  }
  throw corrupt(
    format === undefined ? 'an empty message' : `unknown format byte ${format} on ${topic}`,
  );
}

function encodeJson(topic: Topic, records: readonly unknown[]): Buffer {
  let json: string;
  try {
    json = JSON.stringify(records);
  } catch (error) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `a ${topic} record cannot be written as JSON: ${(error as Error).message}`,
      { topic },
      { cause: error },
    );
  }
  const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(json, 'utf8'));
  bytes[0] = JSON_FORMAT;
  bytes.write(json, 1, 'utf8');
  return bytes;
}
