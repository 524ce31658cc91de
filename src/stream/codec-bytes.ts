import { AlphalakeError } from '../domain/index.js';

/**
 * Bytes for the record codecs: LEB128 varints (the encoding of protobuf and of Kafka's
 * own record format, KIP-98) over numbers up to 2^53 − 1, zigzag for signed deltas, and
 * UTF-8 strings. Varints are computed with arithmetic above 2^31, so no BigInt is made.
 */
export class ByteWriter {
  private buffer: Buffer;
  private position = 0;

  constructor(capacity = 1024) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.position);
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.position++] = value;
  }

  /** An unsigned integer in [0, 2^53). */
  varint(value: number): void {
    this.reserve(8);
    const buffer = this.buffer;
    let p = this.position;
    while (value > 0x7fffffff) {
      buffer[p++] = value % 0x80 | 0x80;
      value = Math.floor(value / 0x80);
    }
    while (value >= 0x80) {
      buffer[p++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buffer[p++] = value;
    this.position = p;
  }

  /** A signed integer in (−2^52, 2^52): zigzag, then varint. */
  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  float64(value: number): void {
    this.reserve(8);
    this.buffer.writeDoubleLE(value, this.position);
    this.position += 8;
  }

  string(value: string): void {
    const length = Buffer.byteLength(value, 'utf8');
    this.varint(length);
    this.reserve(length);
    this.buffer.write(value, this.position, 'utf8');
    this.position += length;
  }

  private reserve(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.position + bytes));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }
}

export class ByteReader {
  private position: number;

  constructor(
    private readonly buffer: Buffer,
    start = 0,
  ) {
    this.position = start;
  }

  get done(): boolean {
    return this.position === this.buffer.length;
  }

  u8(): number {
    this.need(1);
    return this.buffer[this.position++]!;
  }

  varint(): number {
    const buffer = this.buffer;
    let p = this.position;
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (p >= buffer.length || i === 8) throw corrupt('a varint runs past its bounds');
      const byte = buffer[p++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
    }
    if (value > Number.MAX_SAFE_INTEGER) throw corrupt('a varint past 2^53');
    this.position = p;
    return value;
  }

  zigzag(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  float64(): number {
    this.need(8);
    const value = this.buffer.readDoubleLE(this.position);
    this.position += 8;
    return value;
  }

  string(): string {
    const length = this.varint();
    this.need(length);
    const value = this.buffer.toString('utf8', this.position, this.position + length);
    this.position += length;
    return value;
  }

  private need(bytes: number): void {
    if (this.position + bytes > this.buffer.length) throw corrupt('the message is truncated');
  }
}

export function corrupt(reason: string): AlphalakeError {
  return new AlphalakeError('SCHEMA_MISMATCH', `undecodable bus message: ${reason}`);
}
