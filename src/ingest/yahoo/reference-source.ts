import { isAlphalakeError } from '../../domain/index.js';
import type {
  CorporateActionInput,
  ReferenceDataSource,
  ReferenceEntry,
  SymbolInput,
} from '../../mdm/index.js';
import { referenceEntryOf } from '../reference-entry.js';
import type { YahooChartClient } from './chart-client.js';

/**
 * Yahoo's reference data for master data: splits and dividends from the chart endpoint's
 * events over each ticker's whole history. The chart names no MIC, listing date or
 * industry, so Yahoo creates and updates no symbols; a ticker Yahoo does not know is
 * that ticker's ERROR.
 */
export class YahooReferenceData implements ReferenceDataSource {
  readonly name = 'yahoo';

  constructor(
    private readonly client: YahooChartClient,
    private readonly tickers: () => readonly string[],
    private readonly now: () => number,
  ) {}

  // eslint-disable-next-line require-yield -- the chart carries no symbol master data
  async *symbols(): AsyncGenerator<ReferenceEntry<SymbolInput>> {
    return;
  }

  async *corporateActions(
    signal: AbortSignal,
  ): AsyncGenerator<ReferenceEntry<CorporateActionInput>> {
    for (const ticker of this.tickers()) {
      let records;
      try {
        records = await this.client.corporateActions(ticker, this.now(), signal);
      } catch (error) {
        if (!isAlphalakeError(error, 'NOT_FOUND')) throw error;
        yield { key: ticker, error };
        continue;
      }
      for (const record of records) yield referenceEntryOf(ticker, 'Yahoo chart events', record);
    }
  }
}
