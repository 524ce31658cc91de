import { AlphalakeError, isAlphalakeError } from '../../domain/index.js';
import type {
  CorporateActionInput,
  ReferenceDataSource,
  ReferenceEntry,
  SymbolInput,
} from '../../mdm/index.js';
import { referenceEntryOf } from '../reference-entry.js';
import type { PolygonRestClient } from './rest-client.js';
import { symbolOfDetails } from './wire.js';

/**
 * Polygon's reference data for master data (the `mdm.refresh` job): each ticker's details
 * from `/v3/reference/tickers/{ticker}` (name, primary exchange MIC, currency, market and
 * type, list date, delisting, SIC description), then its splits (`/v3/reference/splits`)
 * and cash dividends (`/v3/reference/dividends`), every page through `next_url`.
 *
 * `tickers` names what to refresh (the CLI's `--symbols`, else the symbols master data
 * holds): one details call a ticker is what the free tier's 5 calls a minute allow, where
 * paging all of `/v3/reference/tickers` would fetch every US listing. A ticker Polygon
 * does not know (404) or a record without a field is that record's ERROR; a refusal of
 * the key, or 429s past the retries, stop the refresh (the job fails and is retried).
 */
export class PolygonReferenceData implements ReferenceDataSource {
  readonly name = 'polygon';

  constructor(
    private readonly client: PolygonRestClient,
    private readonly tickers: () => readonly string[],
  ) {}

  async *symbols(signal: AbortSignal): AsyncGenerator<ReferenceEntry<SymbolInput>> {
    for (const ticker of this.tickers()) {
      let details: Record<string, unknown>;
      try {
        details = await this.client.tickerDetails(ticker, signal);
      } catch (error) {
        if (!isAlphalakeError(error, 'NOT_FOUND')) throw error;
        yield { key: ticker, error };
        continue;
      }
      const read = symbolOfDetails(details);
      if ('value' in read) {
        yield { key: ticker, value: read.value };
      } else {
        yield {
          key: ticker,
          error: new AlphalakeError(
            'UPSTREAM_MALFORMED',
            `Polygon /v3/reference/tickers/${ticker}: ${read.malformed}`,
            { vendor: 'Polygon', column: read.column },
          ),
        };
      }
    }
  }

  async *corporateActions(
    signal: AbortSignal,
  ): AsyncGenerator<ReferenceEntry<CorporateActionInput>> {
    for (const ticker of this.tickers()) {
      for (const [endpoint, pages] of [
        ['/v3/reference/splits', this.client.splits(ticker, signal)],
        ['/v3/reference/dividends', this.client.dividends(ticker, signal)],
      ] as const) {
        for await (const page of pages) {
          for (const record of page) yield referenceEntryOf(ticker, endpoint, record);
        }
      }
    }
  }
}
