import { describe, expect, it } from 'vitest';
import { ALWAYS_OPEN, ManualClock, SECOND_US, type Trade } from '../../../src/domain/index.js';
import { Ingestor, MarketSimulator, SimulatorFeed } from '../../../src/ingest/index.js';
import { MemorySymbolDirectory } from '../../../src/mdm/index.js';
import { MemoryBus } from '../../../src/stream/index.js';

const SYMBOLS = ['AAPL', 'AMZN', 'GOOGL', 'MSFT', 'NVDA', 'TSLA'];
const START = Date.parse('2026-11-20T14:30:00Z') * 1_000;

describe('simulator feed', () => {
  it('publishes each trade once its event time has passed, not a whole second later', async () => {
    const simulator = new MarketSimulator({
      seed: 42,
      symbols: SYMBOLS,
      calendar: ALWAYS_OPEN,
      tradesPerSecond: 20,
    });
    const clock = new ManualClock(START);
    const bus = new MemoryBus();
    const published: Trade[] = [];
    // Each pump's trades, to check what was out by when.
    const rounds: { until: number; trades: Trade[] }[] = [];
    await bus.subscribe<Trade>(
      'trades',
      async (records) => {
        for (const r of records) published.push(r.value);
      },
      { group: 'feed-test' },
    );
    const feed = new SimulatorFeed(
      simulator,
      new Ingestor(bus, new MemorySymbolDirectory(SYMBOLS), clock),
      clock,
      START,
    );
    // Ticks of 50 ms through three seconds of tape, some landing inside a second.
    for (let until = START + 50_000; until <= START + 3 * SECOND_US; until += 50_000) {
      clock.set(until);
      const before = published.length;
      await feed.pump(until);
      await new Promise((resolve) => setImmediate(resolve));
      rounds.push({ until, trades: published.slice(before) });
      expect(feed.position).toBe(until);
    }
    const tape = [...simulator.tape(START, START + 3 * SECOND_US)].flatMap((s) => s.trades);
    expect(tape.length).toBeGreaterThan(100);
    // Every trade of the tape, once, in the tape's order per symbol.
    expect(published.map((t) => t.id).sort()).toEqual(tape.map((t) => t.id).sort());
    for (const symbol of SYMBOLS) {
      expect(published.filter((t) => t.symbol === symbol)).toEqual(
        tape.filter((t) => t.symbol === symbol),
      );
    }
    // Each trade goes out in the first pump at or after its event time: none early, none held.
    let previous = START;
    for (const { until, trades } of rounds) {
      for (const trade of trades) {
        expect(trade.ts).toBeLessThan(until);
        expect(trade.ts).toBeGreaterThanOrEqual(previous);
      }
      previous = until;
    }
  });
});
