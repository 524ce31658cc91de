import type { Bar, CorporateAction, NewsItem, Quote, Trade } from '../domain/index.js';

/**
 * What a source yields: domain records, or a row it could not read at all (kept whole,
 * with the column at fault, so it lands in `bronze.rejects` instead of vanishing).
 */
export type SourceRecord =
  | {
      readonly kind: 'trade';
      readonly value: Trade;
      /**
       * The tape's trade correction indicator when the source has one (Polygon's
       * `correction`; 0 or absent for a regular trade). The ingest path applies it
       * (src/ingest/validation/corrections.ts): originals later corrected or cancelled and cancel
       * records become rejects with their reason, never new trades.
       */
      readonly correction?: number;
      /** The row as recorded (a file's line): what `bronze.rejects` keeps if it is rejected. */
      readonly raw?: string;
    }
  | { readonly kind: 'quote'; readonly value: Quote; readonly raw?: string }
  | { readonly kind: 'bar'; readonly value: Bar; readonly raw?: string }
  | { readonly kind: 'news'; readonly value: NewsItem; readonly raw?: string }
  | { readonly kind: 'corporate-action'; readonly value: CorporateAction }
  | {
      readonly kind: 'malformed';
      /** The row or message as received. */
      readonly raw: string;
      /** The column or field that could not be read, when one can be named. */
      readonly column?: string;
      readonly detail: string;
    };

/**
 * One market-data source (the simulator, Polygon REST or WebSocket, Yahoo, a recorded
 * file): an async iterable of record batches, cancelled by the signal. A source knows
 * nothing of the bus; the ingest path validates its records and publishes them.
 */
export interface Source {
  /** A stable name (`polygon-rest`, `file:trades.csv.gz`): recorded with every reject. */
  readonly name: string;
  records(signal: AbortSignal): AsyncIterable<readonly SourceRecord[]>;
}
