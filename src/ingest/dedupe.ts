/**
 * Remembers the trades the ingest path took, by (source, symbol, id), to drop a repeat:
 * a vendor replaying after a reconnect, a file holding a row twice. Bounded: once
 * `capacity` keys are held, the oldest is forgotten, so memory stays flat on a 5 GB file;
 * a repeat further apart than that many trades is not caught here (docs/ingest.md).
 */
export class TradeDeduper {
  private readonly seen = new Set<string>();

  constructor(readonly capacity: number) {}

  /** True when this trade was seen already; else remembers it. */
  isDuplicate(source: string, symbol: string, id: string): boolean {
    const key = `${source}\u0000${symbol}\u0000${id}`;
    if (this.seen.has(key)) return true;
    this.seen.add(key);
    if (this.seen.size > this.capacity) {
      // A Set iterates in insertion order: its first key is the oldest.
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
    return false;
  }

  get size(): number {
    return this.seen.size;
  }
}
