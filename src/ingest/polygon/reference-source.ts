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
 * Polygon's reference data for master data (the `mdm.refresh` job): the tickers to
 * refresh from the paged list `/v3/reference/tickers` (polygon.io/docs "All Tickers":
 * name, primary exchange MIC, currency, market and type, active, delisting), then each
 * ticker's splits (`/v3/reference/splits`) and cash dividends (`/v3/reference/dividends`),
 * every page through `next_url`.
 *
 * `tickers` names what to refresh (the CLI's `--symbols`, else the symbols master data
 * holds). The list is read with `market=stocks&active=true`, then `active=false` for the
 * tickers not found listed (delisted ones, unknown ones). Many tickers are read as the
 * list's pages over their range (`ticker.gte`/`ticker.lte`, sorted by ticker, 1000 a
 * page): a refresh of thousands costs a few pages under the free tier's 5 calls a minute,
 * not a call a ticker. A few (up to EXACT_LOOKUPS_MAX) are asked for by name
 * (`ticker=`), a call each, so that two far-apart tickers, or one unknown, never cost a
 * scan of the whole list (~12 pages active, more inactive). The list
 * lacks `list_date` and `sic_description`: the per-ticker details endpoint
 * (`/v3/reference/tickers/{ticker}`) is called only for a ticker `needsDetails` names
 * (master data has no listing date for it yet: a new symbol), once; after that the list
 * keeps it current. A ticker on neither list is that record's NOT_FOUND; a record
 * without a field is its UPSTREAM_MALFORMED; a refusal of the key, or 429s past the
 * retries, stop the refresh (the job fails and is retried).
 */
/**
 * Up to this many tickers are looked up by name, a call each; more are paged over their
 * range. About the number of 1000-ticker pages of Polygon's active US stocks (~12,000
 * tickers): past it, the range's pages cost no more than the calls by name.
 */
export const EXACT_LOOKUPS_MAX = 12;

export class PolygonReferenceData implements ReferenceDataSource {
  readonly name = 'polygon';

  constructor(
    private readonly client: PolygonRestClient,
    private readonly tickers: () => readonly string[],
    /** Whether a ticker needs the details endpoint's fields. @default none does */
    private readonly needsDetails: (ticker: string) => boolean = () => false,
  ) {}

  async *symbols(signal: AbortSignal): AsyncGenerator<ReferenceEntry<SymbolInput>> {
    const wanted = this.tickers();
    const listed = await this.listed(wanted, signal);
    for (const ticker of wanted) {
      const record = listed.get(ticker);
      if (!record) {
        yield {
          key: ticker,
          error: new AlphalakeError(
            'NOT_FOUND',
            `Polygon /v3/reference/tickers lists no stocks ticker ${ticker}, active or not`,
            { vendor: 'Polygon', ticker },
          ),
        };
        continue;
      }
      let read = record;
      if (this.needsDetails(ticker)) {
        try {
          // What the list lacks (list_date, sic_description), over what it has.
          read = { ...record, ...(await this.client.tickerDetails(ticker, signal)) };
        } catch (error) {
          if (!isAlphalakeError(error, 'NOT_FOUND')) throw error;
          yield { key: ticker, error };
          continue;
        }
      }
      const symbol = symbolOfDetails(read);
      if ('value' in symbol) {
        yield { key: ticker, value: symbol.value };
      } else {
        yield {
          key: ticker,
          error: new AlphalakeError(
            'UPSTREAM_MALFORMED',
            `Polygon /v3/reference/tickers ${ticker}: ${symbol.malformed}`,
            { vendor: 'Polygon', column: symbol.column },
          ),
        };
      }
    }
  }

  /**
   * The list's record of each wanted ticker: the active one, else (delisted) the inactive
   * one delisted last (a ticker reused over the years appears once per company).
   */
  private async listed(
    wanted: readonly string[],
    signal: AbortSignal,
  ): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    if (wanted.length === 0) return found;
    const want = new Set(wanted);
    for (const active of ['true', 'false']) {
      const missing = [...want].filter((t) => !found.has(t)).sort();
      if (missing.length === 0) break;
      const inactive = new Map<string, Record<string, unknown>>();
      const filters: Record<string, string>[] =
        missing.length <= EXACT_LOOKUPS_MAX
          ? missing.map((ticker) => ({ active, ticker }))
          : [
              {
                active,
                'ticker.gte': missing[0] as string,
                'ticker.lte': missing.at(-1) as string,
              },
            ];
      for (const filter of filters) {
        for await (const page of this.client.tickerList(filter, signal)) {
          for (const record of page) {
            const ticker = record['ticker'];
            if (typeof ticker !== 'string' || !want.has(ticker) || found.has(ticker)) continue;
            if (active === 'true') {
              found.set(ticker, record);
            } else if (delistedAt(record) >= delistedAt(inactive.get(ticker))) {
              inactive.set(ticker, record);
            }
          }
        }
      }
      for (const [ticker, record] of inactive) found.set(ticker, record);
    }
    return found;
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

/** `delisted_utc` of a list record, comparable as text (ISO 8601); '' when absent. */
function delistedAt(record: Record<string, unknown> | undefined): string {
  const value = record?.['delisted_utc'];
  return typeof value === 'string' ? value : '';
}
