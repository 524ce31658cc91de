/**
 * Remembers the trades the ingest path took, by (source, symbol, id), to drop a repeat:
 * a vendor replaying after a reconnect, a file holding a row twice. Bounded: once
 * `capacity` keys are held, the oldest is forgotten, so memory stays flat on a 5 GB file;
 * a repeat further apart than that many trades is not caught here (docs/ingest.md).
 *
 * Compact: a key is held as its 128-bit MurmurHash3 (x86_128, over the key's UTF-16 code
 * units) in typed arrays, not as a string in a `Set`: 16 bytes in the arrival ring plus 8
 * in the index, 24 bytes a key (12 MB for 500,000) against about 140 for a string in a
 * `Set` with its ring slot. A repeat always has the same hash, so no duplicate in the window
 * is missed; two different trades are taken for one only if their 128-bit hashes collide,
 * odds of about `capacity / 2^128` per trade (1.5e-33 at 500,000), far below a disk's
 * undetected error rate.
 *
 * The index is open addressing with linear probing over a power-of-two table at most half
 * full; the forgotten key leaves by backward-shift deletion (no tombstones, so lookups do
 * not slow down as keys come and go).
 */
export class TradeDeduper {
  /** The arrival ring: key i's hash in words 4i … 4i+3. */
  private readonly hashes: Uint32Array;
  /** The index: ring position + 1 of the key homed near each slot; 0 is empty. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private next = 0;
  private held = 0;
  /** The hash of the key last looked up. */
  private readonly h = new Uint32Array(4);

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`TradeDeduper capacity must be a positive integer, got ${capacity}`);
    this.hashes = new Uint32Array(capacity * 4);
    let size = 2;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
  }

  /** True when this trade was seen already; else remembers it. */
  isDuplicate(source: string, symbol: string, id: string): boolean {
    murmur3x86128(`${source}\u0000${symbol}\u0000${id}`, this.h);
    const [h0, h1, h2, h3] = this.h as unknown as [number, number, number, number];
    const { slots, hashes, mask } = this;
    for (let i = h0 & mask; slots[i] !== 0; i = (i + 1) & mask) {
      const at = (slots[i]! - 1) * 4;
      if (
        hashes[at] === h0 &&
        hashes[at + 1] === h1 &&
        hashes[at + 2] === h2 &&
        hashes[at + 3] === h3
      )
        return true;
    }
    if (this.held === this.capacity) this.forget(this.next);
    else this.held++;
    const at = this.next * 4;
    hashes[at] = h0;
    hashes[at + 1] = h1;
    hashes[at + 2] = h2;
    hashes[at + 3] = h3;
    let i = h0 & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = this.next + 1;
    this.next = (this.next + 1) % this.capacity;
    return false;
  }

  /** Keys held (at most `capacity`). */
  get size(): number {
    return this.held;
  }

  /** Bytes of the typed arrays that hold the window (the whole of its memory but a few fields). */
  get bytes(): number {
    return this.hashes.byteLength + this.slots.byteLength;
  }

  /** Takes ring position `ring` out of the index (backward-shift deletion). */
  private forget(ring: number): void {
    const { slots, hashes, mask } = this;
    let hole = hashes[ring * 4]! & mask;
    while (slots[hole] !== ring + 1) hole = (hole + 1) & mask;
    // Every later entry of the probe run whose home is not in (hole, k] moves into the hole.
    for (let k = (hole + 1) & mask; slots[k] !== 0; k = (k + 1) & mask) {
      const home = hashes[(slots[k]! - 1) * 4]! & mask;
      const stays = hole <= k ? hole < home && home <= k : hole < home || home <= k;
      if (!stays) {
        slots[hole] = slots[k]!;
        hole = k;
      }
    }
    slots[hole] = 0;
  }
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * MurmurHash3_x86_128 (Austin Appleby, smhasher `MurmurHash3.cpp`, seed 0) of the string's
 * UTF-16LE bytes: two code units a 32-bit word, eight a 16-byte block. Writes h1…h4 to `out`.
 */
export function murmur3x86128(text: string, out: Uint32Array): void {
  const units = text.length;
  const blocks = units >>> 3;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  const word = (u: number) =>
    u + 1 < units
      ? text.charCodeAt(u) | (text.charCodeAt(u + 1) << 16)
      : u < units
        ? text.charCodeAt(u)
        : 0;
  for (let b = 0; b < blocks; b++) {
    const u = b * 8;
    let k1 = text.charCodeAt(u) | (text.charCodeAt(u + 1) << 16);
    let k2 = text.charCodeAt(u + 2) | (text.charCodeAt(u + 3) << 16);
    let k3 = text.charCodeAt(u + 4) | (text.charCodeAt(u + 5) << 16);
    let k4 = text.charCodeAt(u + 6) | (text.charCodeAt(u + 7) << 16);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = rotl(h1, 19) + h2;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = rotl(h2, 17) + h3;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = rotl(h3, 15) + h4;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = rotl(h4, 13) + h1;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }
  // The tail: fewer than 8 code units (an even number of bytes below 16).
  const tail = blocks * 8;
  const rest = units - tail;
  if (rest > 6) h4 ^= Math.imul(rotl(Math.imul(word(tail + 6), C4), 18), C1);
  if (rest > 4) h3 ^= Math.imul(rotl(Math.imul(word(tail + 4), C3), 17), C4);
  if (rest > 2) h2 ^= Math.imul(rotl(Math.imul(word(tail + 2), C2), 16), C3);
  if (rest > 0) h1 ^= Math.imul(rotl(Math.imul(word(tail), C1), 15), C2);
  const bytes = units * 2;
  h1 ^= bytes;
  h2 ^= bytes;
  h3 ^= bytes;
  h4 ^= bytes;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[0] = h1;
  out[1] = h2;
  out[2] = h3;
  out[3] = h4;
}
