import type { CheckedRecords, Reject } from './ingestor.js';

/** What an ingest run did, for its summary line: nothing it read goes unaccounted. */
export class IngestTally {
  /** Source rows (or messages) read, skipped ones included. */
  rowsRead = 0;
  /** Rows passed over because the lake already held them (a resumed backfill). */
  rowsSkipped = 0;
  trades = 0;
  quotes = 0;
  bars = 0;
  news = 0;
  readonly rejectedByReason = new Map<Reject['reason'], number>();

  add(checked: CheckedRecords): void {
    this.trades += checked.trades.length;
    this.quotes += checked.quotes.length;
    this.bars += checked.bars.length;
    this.news += checked.news.length;
    for (const reject of checked.rejects) {
      this.rejectedByReason.set(reject.reason, (this.rejectedByReason.get(reject.reason) ?? 0) + 1);
    }
  }

  get rejected(): number {
    let sum = 0;
    for (const count of this.rejectedByReason.values()) sum += count;
    return sum;
  }

  /** `rows 1000000 read (0 skipped as done); 990000 trades; rejected 10000: DUPLICATE 5000, …`. */
  summary(): string {
    const accepted = (
      [
        ['trades', this.trades],
        ['quotes', this.quotes],
        ['bars', this.bars],
        ['news', this.news],
      ] as const
    )
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${n} ${kind}`);
    const reasons = [...this.rejectedByReason]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([reason, n]) => `${reason} ${n}`);
    return [
      `${this.rowsRead} rows read (${this.rowsSkipped} skipped as already committed)`,
      `accepted ${accepted.length > 0 ? accepted.join(', ') : 'nothing'}`,
      `rejected ${this.rejected}${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`,
      `duplicates ${this.rejectedByReason.get('DUPLICATE') ?? 0}`,
    ].join('; ');
  }

  toJSON(): Record<string, unknown> {
    return {
      rowsRead: this.rowsRead,
      rowsSkipped: this.rowsSkipped,
      trades: this.trades,
      quotes: this.quotes,
      bars: this.bars,
      news: this.news,
      rejected: Object.fromEntries(this.rejectedByReason),
    };
  }
}
