import { Arg, Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { AlphalakeError } from '../../domain/index.js';
import type { ApiContext } from '../transport/context.js';
import { QuoteType } from '../types/market-types.js';
import { SymbolBarsType } from './market-resolver.js';

/** At most this many tickers in one `latestQuotes` (one lake read covers them all). */
const MAX_LATEST_QUOTES = 1_000;

/**
 * Latest quotes wherever a request asks for several: `latestQuotes(symbols)` and the
 * `latestQuote` of each `barsMany` item. Every one goes through the request's DataLoader
 * (execution/loaders.ts), so N tickers — and the root `latestQuote` fields of the same
 * request — cost one batched read, not N. A latest quote may come from the speed layer,
 * so a response holding one is never kept by the response cache.
 */
@Resolver()
export class LatestQuotesResolver {
  @Authorized('viewer')
  @Query(() => [QuoteType], {
    nullable: 'items',
    description: `The latest quote of each ticker, in the order asked (null where it has none): the speed layer's, else the lake's newest, read in one batch, adjusted for splits and dividends unless \`adjusted: false\`. At most ${MAX_LATEST_QUOTES} tickers.`,
  })
  async latestQuotes(
    @Ctx() { loaders }: ApiContext,
    @Arg('symbols', () => [String], { description: 'The tickers, e.g. `["AAPL", "MSFT"]`.' })
    symbols: string[],
    @Arg('adjusted', {
      defaultValue: true,
      description: 'Adjusted for splits and cash dividends (docs/mdm.md); false: as stored.',
    })
    adjusted: boolean,
  ): Promise<(QuoteType | undefined)[]> {
    if (symbols.length === 0)
      throw new AlphalakeError('BAD_USER_INPUT', 'name at least one symbol');
    if (symbols.length > MAX_LATEST_QUOTES) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `at most ${MAX_LATEST_QUOTES} symbols in one latestQuotes, not ${symbols.length}`,
        { symbols: symbols.length, maxSymbols: MAX_LATEST_QUOTES },
      );
    }
    const quotes = await loaders.latestQuote.loadMany(
      symbols.map((symbol) => ({ symbol, adjusted })),
    );
    return quotes.map((quote) => {
      if (quote instanceof Error) throw quote;
      return quote && QuoteType.from(quote);
    });
  }
}

/** The `latestQuote` of a `barsMany` item. */
@Resolver(() => SymbolBarsType)
export class SymbolBarsResolver {
  @FieldResolver(() => QuoteType, {
    nullable: true,
    description:
      "The symbol's latest quote, as `latestQuote` (all the items' quotes are read in one batch). It may come from the speed layer: a response that asks for it is never cached.",
  })
  async latestQuote(
    @Root() item: SymbolBarsType,
    @Ctx() { loaders, unsettle }: ApiContext,
    @Arg('adjusted', {
      defaultValue: true,
      description: 'Adjusted for splits and cash dividends (docs/mdm.md); false: as stored.',
    })
    adjusted: boolean,
  ): Promise<QuoteType | undefined> {
    unsettle?.();
    const quote = await loaders.latestQuote.load({ symbol: item.symbol, adjusted });
    return quote && QuoteType.from(quote);
  }
}
