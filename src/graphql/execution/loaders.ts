import DataLoader from 'dataloader';
import type { MarketData } from '../../batch/index.js';
import type { Quote } from '../../domain/index.js';

/**
 * Loaders made anew for every request (a cache across requests would serve another
 * request's stale quote, or another caller's): what the resolvers of one request ask for
 * one key at a time is gathered over a tick of the event loop and read in one batch
 * (DataLoader, https://github.com/graphql/dataloader#batching), and the same key asked
 * twice in the request is read once.
 */
export interface RequestLoaders {
  /**
   * The latest quote of a ticker: `latestQuote` fields — at the root (under any alias),
   * `latestQuotes`, and on each `barsMany` item — become one `MarketData.latestQuotes`
   * call per flavour: one speed-store call (`SpeedStore.latestQuotes`) and one lake read
   * for the tickers the speed layer has no quote for.
   */
  readonly latestQuote: DataLoader<LatestQuoteKey, Quote | undefined, string>;
}

/** A ticker's latest quote, adjusted for splits and dividends or as stored. */
export interface LatestQuoteKey {
  readonly symbol: string;
  readonly adjusted: boolean;
}

export function requestLoaders(market: Pick<MarketData, 'latestQuotes'>): RequestLoaders {
  return {
    latestQuote: new DataLoader<LatestQuoteKey, Quote | undefined, string>(
      async (keys) => {
        // One market-data call per flavour asked for (adjusted, raw): at most two.
        const answers = new Array<Quote | undefined | Error>(keys.length);
        for (const adjusted of [true, false]) {
          const at = keys.flatMap((key, i) => (key.adjusted === adjusted ? [i] : []));
          if (at.length === 0) continue;
          const quotes = await market.latestQuotes(
            at.map((i) => keys[i]!.symbol),
            adjusted,
          );
          at.forEach((i, j) => (answers[i] = quotes[j]));
        }
        return answers;
      },
      // `aapl` and ` AAPL` are one ticker (MarketData.checkSymbols normalizes them).
      {
        cacheKeyFn: (key) =>
          `${key.adjusted ? 'adjusted' : 'raw'}:${key.symbol.trim().toUpperCase()}`,
      },
    ),
  };
}
