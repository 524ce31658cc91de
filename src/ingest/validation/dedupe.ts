/**
 * Remembers the trades the ingest path took, by (source, symbol, id), to drop a repeat:
 * a vendor replaying after a reconnect, a file holding a row twice. Bounded: once
 * `capacity` keys are held, the oldest is forgotten, so memory stays flat on a 5 GB file;
 * a repeat further apart than that many trades is not caught here (docs/ingest.md).
 *
 * The keys' arrival order is kept in a ring, not read back from the Set: a Set's first
 * entry after many deletions is found by skipping the deleted slots, which made every
 * eviction cost more than the one before.
 */
export class TradeDeduper {
  private readonly seen = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }

  /** True when this trade was seen already; else remembers it. */
  isDuplicate(source: string, symbol: string, id: string): boolean {
    const key = `${source}\u0000${symbol}\u0000${id}`;
    if (this.seen.has(key)) return true;
    const oldest = this.ring[this.next];
    if (oldest !== undefined) this.seen.delete(oldest);
    this.ring[this.next] = key;
    this.next = (this.next + 1) % this.capacity;
    this.seen.add(key);
    return false;
  }

  get size(): number {
    return this.seen.size;
  }
}
