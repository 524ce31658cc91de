import {
  AlphalakeError,
  type Bar,
  type Quote,
  type Trade,
  type VendorBar,
} from '../domain/index.js';
import { ByteReader, ByteWriter, corrupt } from './codec-bytes.js';

/**
 * The columnar record encoding, version 1: many records of one kind in one message,
 * column by column, so a batch of one symbol's trades costs a few bytes a trade.
 *
 * ```
 * message  = u8 format (2) · u8 kind (1 trade, 2 quote, 3 bar, 4 trade with tsNanos,
 *            5 bar with source, 6 trade with tsNanos and conditions) · varint n · column per field
 * number   = u8 0 · n × float64 LE                                   (any double, bit for bit)
 *          | u8 1 · u8 e · n × zigzag varint Δ(round(v · 10^e))      (decimals, exactly)
 * string   = u8 0 · n × (varint length · UTF-8)
 *          | u8 1 · dictionary · codes                               (repeated values)
 *          | u8 2 · dictionary of prefixes · codes · n × zigzag varint Δ(serial)   ("p-123")
 * nanos    = u8 1 · n × varint (0 absent, else zigzag(v − ts · 1000) + 1)   (bigint ns beside µs ts)
 * ids      = u8 1 · n × (varint 0 absent | varint (count + 1) · count × varint id)   (condition ids)
 * dictionary = varint d · d × (varint length · UTF-8);  codes = n × varint, absent when d = 1
 * ```
 *
 * Kind 4 (added with `Trade.tsNanos`) is kind 1 plus a `tsNanos` column: an encoder
 * writes it only when a record of the batch carries nanoseconds, so consumers of older
 * versions keep reading every batch without them. A nanosecond time is held as its
 * offset from the record's µs `ts` (0–999 when `ts` is its floor, as docs/time.md says),
 * so a 19-digit epoch-ns value costs a byte or two and comes back whole. Kind 5 (added
 * with `bronze.vendor_bars`) is kind 3 plus the `source` that delivered the bar, likewise
 * written only when a bar of the batch carries one. Kind 6 (added with `Trade.conditions`)
 * is kind 4 plus a `conditions` column of id lists, written only when a record of the
 * batch carries conditions; a consumer of an older version refuses such a message as
 * corrupt rather than drop the conditions (upgrade consumers first).
 *
 * A number column is written as scaled integers only when every value comes back
 * bit for bit (`Object.is(round(v · 10^e) / 10^e, v)` is checked for each value at
 * encode time, and decoding divides the same way), so epoch-µs timestamps, prices and
 * sizes round-trip exactly; anything else (NaN, −0, a VWAP) is written as float64.
 * Records must carry exactly the fields of their kind: a field this version does not
 * know is refused, never dropped.
 */
export const COLUMNAR_FORMAT = 2;

const MAX_DECIMALS = 9;
/** Deltas are zigzagged into a varint: |Δ| < 2^52 keeps the zigzag a safe integer. */
const MAX_DELTA = 2 ** 52 - 1;
const POWERS = Array.from({ length: MAX_DECIMALS + 1 }, (_, e) => 10 ** e);

/**
 * `nanos`: an optional `bigint` of epoch ns, stored relative to the record's `ts` (µs);
 * `ids`: an optional list of non-negative integers (a trade's condition ids).
 */
type FieldType = 'number' | 'string' | 'nanos' | 'ids';

type ColumnValue = number | string | bigint | readonly number[] | undefined;

export interface ColumnarSchema<T> {
  readonly kind: number;
  readonly name: string;
  readonly fields: readonly { readonly name: string; readonly type: FieldType }[];
  /** Builds record `i` from decoded columns, in the field order above. */
  build(columns: readonly (readonly ColumnValue[])[], i: number): T;
}

export const TRADE_SCHEMA: ColumnarSchema<Trade> = {
  kind: 1,
  name: 'trade',
  fields: [
    { name: 'symbol', type: 'string' },
    { name: 'ts', type: 'number' },
    { name: 'seq', type: 'number' },
    { name: 'price', type: 'number' },
    { name: 'size', type: 'number' },
    { name: 'id', type: 'string' },
    { name: 'exchange', type: 'string' },
  ],
  build: (c, i) => ({
    symbol: c[0]![i] as string,
    ts: c[1]![i] as number,
    seq: c[2]![i] as number,
    price: c[3]![i] as number,
    size: c[4]![i] as number,
    id: c[5]![i] as string,
    exchange: c[6]![i] as string,
  }),
};

/** Trades of which some carry `tsNanos` (Polygon's `sip_timestamp`): kind 1 and one column more. */
export const TRADE_NANOS_SCHEMA: ColumnarSchema<Trade> = {
  kind: 4,
  name: 'trade',
  fields: [...TRADE_SCHEMA.fields, { name: 'tsNanos', type: 'nanos' }],
  build: (c, i) => {
    const trade = TRADE_SCHEMA.build(c, i);
    const nanos = c[7]![i] as bigint | undefined;
    return nanos === undefined ? trade : { ...trade, tsNanos: nanos };
  },
};

/** Trades of which some carry `conditions`: kind 4 and one column more. */
export const TRADE_CONDITIONS_SCHEMA: ColumnarSchema<Trade> = {
  kind: 6,
  name: 'trade',
  fields: [...TRADE_NANOS_SCHEMA.fields, { name: 'conditions', type: 'ids' }],
  build: (c, i) => {
    const trade = TRADE_NANOS_SCHEMA.build(c, i);
    const conditions = c[8]![i] as readonly number[] | undefined;
    return conditions === undefined ? trade : { ...trade, conditions };
  },
};

export const QUOTE_SCHEMA: ColumnarSchema<Quote> = {
  kind: 2,
  name: 'quote',
  fields: [
    { name: 'symbol', type: 'string' },
    { name: 'ts', type: 'number' },
    { name: 'bidPrice', type: 'number' },
    { name: 'bidSize', type: 'number' },
    { name: 'askPrice', type: 'number' },
    { name: 'askSize', type: 'number' },
  ],
  build: (c, i) => ({
    symbol: c[0]![i] as string,
    ts: c[1]![i] as number,
    bidPrice: c[2]![i] as number,
    bidSize: c[3]![i] as number,
    askPrice: c[4]![i] as number,
    askSize: c[5]![i] as number,
  }),
};

export const BAR_SCHEMA: ColumnarSchema<Bar> = {
  kind: 3,
  name: 'bar',
  fields: [
    { name: 'symbol', type: 'string' },
    { name: 'interval', type: 'string' },
    { name: 'ts', type: 'number' },
    { name: 'open', type: 'number' },
    { name: 'high', type: 'number' },
    { name: 'low', type: 'number' },
    { name: 'close', type: 'number' },
    { name: 'volume', type: 'number' },
    { name: 'vwap', type: 'number' },
    { name: 'tradeCount', type: 'number' },
  ],
  build: (c, i) => ({
    symbol: c[0]![i] as string,
    interval: c[1]![i] as Bar['interval'],
    ts: c[2]![i] as number,
    open: c[3]![i] as number,
    high: c[4]![i] as number,
    low: c[5]![i] as number,
    close: c[6]![i] as number,
    volume: c[7]![i] as number,
    vwap: c[8]![i] as number,
    tradeCount: c[9]![i] as number,
  }),
};

/** Vendor bars with the source that delivered them (`VendorBar`): kind 3 and one column more. */
export const VENDOR_BAR_SCHEMA: ColumnarSchema<VendorBar> = {
  kind: 5,
  name: 'vendor bar',
  fields: [...BAR_SCHEMA.fields, { name: 'source', type: 'string' }],
  build: (c, i) => ({ ...BAR_SCHEMA.build(c, i), source: c[10]![i] as string }),
};

export const COLUMNAR_SCHEMAS: readonly ColumnarSchema<unknown>[] = [
  TRADE_SCHEMA,
  QUOTE_SCHEMA,
  BAR_SCHEMA,
  TRADE_NANOS_SCHEMA,
  VENDOR_BAR_SCHEMA,
  TRADE_CONDITIONS_SCHEMA,
];

export function encodeColumnar<T>(schema: ColumnarSchema<T>, records: readonly T[]): Buffer {
  const n = records.length;
  const rows = records as readonly Record<string, unknown>[];
  checkFields(schema, rows);
  const writer = new ByteWriter(64 + n * 24);
  writer.u8(COLUMNAR_FORMAT);
  writer.u8(schema.kind);
  writer.varint(n);
  for (const field of schema.fields) {
    const column = new Array(n);
    for (let i = 0; i < n; i++) {
      const value = rows[i]![field.name];
      if (field.type === 'nanos') {
        if (value !== undefined && typeof value !== 'bigint')
          throw badField(schema, field.name, i, value);
      } else if (field.type === 'ids') {
        if (
          value !== undefined &&
          !(Array.isArray(value) && value.every((id) => Number.isSafeInteger(id) && id >= 0))
        )
          throw badField(schema, field.name, i, value);
      } else if (typeof value !== field.type) throw badField(schema, field.name, i, value);
      column[i] = value;
    }
    if (field.type === 'number') writeNumbers(writer, column as number[]);
    else if (field.type === 'nanos') writeNanos(writer, schema, column, rows);
    else if (field.type === 'ids') writeIds(writer, column as (readonly number[] | undefined)[]);
    else writeStrings(writer, column as string[]);
  }
  return writer.bytes();
}

export function decodeColumnar<T>(schema: ColumnarSchema<T>, bytes: Buffer): T[] {
  const reader = new ByteReader(bytes);
  if (reader.u8() !== COLUMNAR_FORMAT) throw corrupt('not a columnar message');
  const kind = reader.u8();
  if (kind !== schema.kind) {
    throw corrupt(`a message of kind ${kind} where ${schema.name}s (kind ${schema.kind}) belong`);
  }
  const n = reader.varint();
  const columns: (readonly ColumnValue[])[] = [];
  for (const field of schema.fields) {
    if (field.type === 'number') columns.push(readNumbers(reader, n));
    else if (field.type === 'string') columns.push(readStrings(reader, n));
    else if (field.type === 'ids') columns.push(readIds(reader, n));
    else
      columns.push(
        readNanos(reader, columns[schema.fields.findIndex((f) => f.name === 'ts')] as number[], n),
      );
  }
  if (!reader.done) throw corrupt('bytes left after the last column');
  const records = new Array<T>(n);
  for (let i = 0; i < n; i++) records[i] = schema.build(columns, i);
  return records;
}

/** Every record has exactly the schema's fields: one it does not know would be lost. */
function checkFields(schema: ColumnarSchema<unknown>, rows: readonly Record<string, unknown>[]) {
  const expected = schema.fields.length;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (typeof row !== 'object' || row === null) throw badField(schema, '(record)', i, row);
    let count = 0;
    for (const _ in row) count++;
    if (count === expected) continue;
    const known = new Set(schema.fields.map((f) => f.name));
    const extra = Object.keys(row).filter((key) => !known.has(key));
    if (extra.length > 0) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `${schema.name} record ${i} has fields the columnar encoding v1 does not carry: ${extra.join(', ')}`,
        { kind: schema.name, record: i, fields: extra },
      );
    }
  }
}

function badField(
  schema: ColumnarSchema<unknown>,
  field: string,
  index: number,
  value: unknown,
): AlphalakeError {
  return new AlphalakeError(
    'BAD_USER_INPUT',
    `${schema.name} record ${index}: ${field} must be a ${schema.fields.find((f) => f.name === field)?.type ?? 'object'}, got ${typeof value}`,
    { kind: schema.name, record: index, field },
  );
}

/** Offsets from `ts · 1000` beyond this are refused: they would not be a µs floor's nanos. */
const MAX_NANOS_OFFSET = 2 ** 50;

function writeNanos(
  writer: ByteWriter,
  schema: ColumnarSchema<unknown>,
  values: readonly (bigint | undefined)[],
  rows: readonly Record<string, unknown>[],
): void {
  writer.u8(1);
  for (let i = 0; i < values.length; i++) {
    const nanos = values[i];
    if (nanos === undefined) {
      writer.varint(0);
      continue;
    }
    const offset = nanos - BigInt(rows[i]!.ts as number) * 1000n;
    if (offset >= BigInt(MAX_NANOS_OFFSET) || offset <= -BigInt(MAX_NANOS_OFFSET)) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `${schema.name} record ${i}: tsNanos ${nanos} is not within 2^50 ns of ts ${String(rows[i]!.ts)} µs`,
        { kind: schema.name, record: i, field: 'tsNanos' },
      );
    }
    const value = Number(offset);
    writer.varint((value >= 0 ? value * 2 : -value * 2 - 1) + 1);
  }
}

function readNanos(reader: ByteReader, ts: readonly number[], n: number): (bigint | undefined)[] {
  const mode = reader.u8();
  if (mode !== 1) throw corrupt(`unknown nanos column mode ${mode}`);
  const values = new Array<bigint | undefined>(n);
  for (let i = 0; i < n; i++) {
    const coded = reader.varint();
    if (coded === 0) continue;
    const z = coded - 1;
    const offset = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    values[i] = BigInt(ts[i]!) * 1000n + BigInt(offset);
  }
  return values;
}

function writeIds(writer: ByteWriter, values: readonly (readonly number[] | undefined)[]): void {
  writer.u8(1);
  for (const ids of values) {
    if (ids === undefined) {
      writer.varint(0);
      continue;
    }
    writer.varint(ids.length + 1);
    for (const id of ids) writer.varint(id);
  }
}

function readIds(reader: ByteReader, n: number): (readonly number[] | undefined)[] {
  const mode = reader.u8();
  if (mode !== 1) throw corrupt(`unknown ids column mode ${mode}`);
  const values = new Array<readonly number[] | undefined>(n);
  for (let i = 0; i < n; i++) {
    const coded = reader.varint();
    if (coded === 0) continue;
    const ids = new Array<number>(coded - 1);
    for (let k = 0; k < ids.length; k++) ids[k] = reader.varint();
    values[i] = ids;
  }
  return values;
}

function writeNumbers(writer: ByteWriter, values: readonly number[]): void {
  const decimals = exactDecimals(values);
  if (decimals === undefined) {
    writer.u8(0);
    for (const value of values) writer.float64(value);
    return;
  }
  const scale = POWERS[decimals]!;
  writer.u8(1);
  writer.u8(decimals);
  let previous = 0;
  for (const value of values) {
    const scaled = decimals === 0 ? value : Math.round(value * scale);
    writer.zigzag(scaled - previous);
    previous = scaled;
  }
}

/** The fewest decimals e at which every value is round(v · 10^e) / 10^e exactly, if any. */
function exactDecimals(values: readonly number[]): number | undefined {
  search: for (let e = 0; e <= MAX_DECIMALS; e++) {
    const scale = POWERS[e]!;
    let previous = 0;
    for (const value of values) {
      // NaN, ±Infinity and −0 have no integer form: the column stays float64.
      if (!Number.isFinite(value) || Object.is(value, -0)) return undefined;
      const scaled = e === 0 ? value : Math.round(value * scale);
      if (!Number.isSafeInteger(scaled) || (e > 0 && !Object.is(scaled / scale, value))) {
        continue search;
      }
      const delta = scaled - previous;
      if (delta > MAX_DELTA || delta < -MAX_DELTA) return undefined;
      previous = scaled;
    }
    return e;
  }
  return undefined;
}

function readNumbers(reader: ByteReader, n: number): number[] {
  const values = new Array<number>(n);
  const mode = reader.u8();
  if (mode === 0) {
    for (let i = 0; i < n; i++) values[i] = reader.float64();
    return values;
  }
  if (mode !== 1) throw corrupt(`unknown number column mode ${mode}`);
  const decimals = reader.u8();
  if (decimals > MAX_DECIMALS) throw corrupt(`${decimals} decimals`);
  const scale = POWERS[decimals]!;
  let scaled = 0;
  for (let i = 0; i < n; i++) {
    scaled += reader.zigzag();
    values[i] = decimals === 0 ? scaled : scaled / scale;
  }
  return values;
}

function writeStrings(writer: ByteWriter, values: readonly string[]): void {
  const serial = splitSerials(values);
  if (serial) {
    writer.u8(2);
    writeDictionary(writer, serial.prefixes);
    let previous = 0;
    for (const number of serial.numbers) {
      writer.zigzag(number - previous);
      previous = number;
    }
    return;
  }
  const dictionary = dictionaryOf(values);
  if (dictionary.values.length * 2 <= values.length) {
    writer.u8(1);
    writeDictionary(writer, dictionary);
    return;
  }
  writer.u8(0);
  for (const value of values) writer.string(value);
}

interface Dictionary {
  readonly values: string[];
  readonly codes: number[];
}

function dictionaryOf(values: readonly string[]): Dictionary {
  const index = new Map<string, number>();
  const dictionary: Dictionary = { values: [], codes: new Array<number>(values.length) };
  let previous: string | undefined;
  let code = -1;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    // Runs of one value (a message's symbol, an id prefix) skip the map.
    if (value !== previous) {
      previous = value;
      const known = index.get(value);
      if (known === undefined) {
        code = dictionary.values.length;
        dictionary.values.push(value);
        index.set(value, code);
      } else code = known;
    }
    dictionary.codes[i] = code;
  }
  return dictionary;
}

function writeDictionary(writer: ByteWriter, dictionary: Dictionary): void {
  writer.varint(dictionary.values.length);
  for (const value of dictionary.values) writer.string(value);
  if (dictionary.values.length > 1) for (const code of dictionary.codes) writer.varint(code);
}

function readDictionary(reader: ByteReader, n: number): string[] {
  const size = reader.varint();
  const entries = new Array<string>(size);
  for (let i = 0; i < size; i++) entries[i] = reader.string();
  const values = new Array<string>(n);
  if (size === 1) return values.fill(entries[0]!);
  for (let i = 0; i < n; i++) {
    const value = entries[reader.varint()];
    if (value === undefined) throw corrupt('a dictionary code out of range');
    values[i] = value;
  }
  return values;
}

/**
 * Splits ids such as `20261201-48213` into a prefix and a serial number, when every value
 * is a prefix (not ending in a digit) and a canonical decimal of at most 15 digits, so
 * `prefix + String(serial)` gives the value back exactly.
 */
function splitSerials(
  values: readonly string[],
): { prefixes: Dictionary; numbers: number[] } | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  const prefixes: string[] = new Array<string>(n);
  const numbers = new Array<number>(n);
  let previous = 0;
  let prefix = '';
  for (let i = 0; i < n; i++) {
    const value = values[i]!;
    let start = value.length;
    let number = 0;
    let unit = 1;
    while (start > 0) {
      const c = value.charCodeAt(start - 1);
      if (c < 48 || c > 57) break;
      number += (c - 48) * unit;
      unit *= 10;
      start--;
    }
    const digits = value.length - start;
    if (digits === 0 || digits > 15) return undefined;
    if (digits > 1 && value.charCodeAt(start) === 48) return undefined;
    const delta = number - previous;
    if (delta > MAX_DELTA || delta < -MAX_DELTA) return undefined;
    previous = number;
    // Consecutive ids mostly share their prefix: keep one string for it.
    if (prefix.length !== start || !value.startsWith(prefix)) prefix = value.slice(0, start);
    prefixes[i] = prefix;
    numbers[i] = number;
  }
  return { prefixes: dictionaryOf(prefixes), numbers };
}

function readStrings(reader: ByteReader, n: number): string[] {
  const mode = reader.u8();
  if (mode === 1) return readDictionary(reader, n);
  if (mode === 2) {
    const values = readDictionary(reader, n);
    let number = 0;
    for (let i = 0; i < n; i++) {
      number += reader.zigzag();
      values[i] += String(number);
    }
    return values;
  }
  if (mode !== 0) throw corrupt(`unknown string column mode ${mode}`);
  const values = new Array<string>(n);
  for (let i = 0; i < n; i++) values[i] = reader.string();
  return values;
}
