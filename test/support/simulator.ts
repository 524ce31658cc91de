import type { Config } from '../../src/config/index.js';
import { calendarNamed } from '../../src/domain/index.js';
import { MarketSimulator } from '../../src/ingest/index.js';

/**
 * The simulator a platform of `config` runs, built afresh as a test's oracle: the same
 * seed, symbols, calendar and events (splits, dividends and halts shape its tape), at
 * `tradesPerSecond` when the test's processes were started with another rate.
 */
export function simulatorOf(
  config: Config,
  tradesPerSecond = config.simulatorTradesPerSecond,
): MarketSimulator {
  return new MarketSimulator({
    seed: config.simulatorSeed,
    symbols: config.simulatorSymbols,
    calendar: calendarNamed(config.simulatorCalendar),
    tradesPerSecond,
    events: {
      splitsPerYear: config.simulatorSplitsPerYear,
      dividendsPerYear: config.simulatorDividendsPerYear,
      newsPerSession: config.simulatorNewsPerSession,
      newsSignalStrength: config.simulatorNewsSignal,
      haltsPerSession: config.simulatorHaltsPerSession,
    },
  });
}
