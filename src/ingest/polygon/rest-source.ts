import type { BarInterval } from '../../domain/index.js';
import type { Source, SourceRecord } from '../source.js';
import type { MicrosRange, PolygonRestClient } from './rest-client.js';

/** What a Polygon REST source fetches. */
export type PolygonDataset = 'trades' | 'quotes' | 'aggregates' | 'news' | 'splits' | 'dividends';

export const POLYGON_DATASETS: readonly PolygonDataset[] = [
  'trades',
  'quotes',
  'aggregates',
  'news',
  'splits',
  'dividends',
];

export interface PolygonRestSourceRequest {
  readonly dataset: PolygonDataset;
  readonly symbols: readonly string[];
  /** Event (or publication) time range, µs; splits and dividends ignore it. */
  readonly range: MicrosRange;
  /** Bar width of `aggregates`. @default '1m' */
  readonly interval?: BarInterval;
}

/**
 * History from Polygon's REST API as a Source: one symbol after another, one batch per
 * page, in the vendor's ascending time order. Ends when the last page is read.
 */
export class PolygonRestSource implements Source {
  readonly name = 'polygon-rest';

  constructor(
    private readonly client: PolygonRestClient,
    private readonly request: PolygonRestSourceRequest,
  ) {}

  async *records(signal: AbortSignal): AsyncIterable<readonly SourceRecord[]> {
    const { dataset, range } = this.request;
    for (const symbol of this.request.symbols) {
      switch (dataset) {
        case 'trades':
          yield* this.client.trades(symbol, range, signal);
          break;
        case 'quotes':
          yield* this.client.quotes(symbol, range, signal);
          break;
        case 'aggregates':
          yield* this.client.aggregates(symbol, this.request.interval ?? '1m', range, signal);
          break;
        case 'news':
          yield* this.client.news(symbol, range, signal);
          break;
        case 'splits':
          yield* this.client.splits(symbol, signal);
          break;
        case 'dividends':
          yield* this.client.dividends(symbol, signal);
          break;
      }
    }
  }
}
