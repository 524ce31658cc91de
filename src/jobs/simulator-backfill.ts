import { AlphalakeError, HOUR_US, type Trade } from '../domain/index.js';
import {
  publishSimulatorEvents,
  type HistorySink,
  type Ingestor,
  type MarketSimulator,
  type SimulatorHistoryExtras,
} from '../ingest/index.js';
import type { BackfillSource } from './handlers.js';

/** Event time per commit: bounds memory, and each chunk renews the job's lock. */
const CHUNK_US = 6 * HOUR_US;

/**
 * The simulator as a backfill source: its tape of [from, to) through the ingest checks
 * into the lake's history path (HistorySink.writeHistory), a chunk of event time per
 * commit, reporting progress (share of the range) and rows (trades that passed the
 * checks) after each.
 *
 * The lake is complete up to one watermark for all symbols, so the simulator writes
 * every symbol it trades: a request naming some of them only is refused rather than
 * leaving the others with a hole below the watermark. A range that starts above the
 * watermark starts at it instead (nothing is left unwritten between), and what the lake
 * already holds is skipped by the sink, so a retried backfill writes each trade once.
 */
export function simulatorBackfill(
  deps: {
    readonly simulator: MarketSimulator;
    readonly ingestor: Ingestor;
    readonly sink: HistorySink;
    /** Epoch µs now: a backfill reaches no further. */
    readonly now: () => number;
  } & SimulatorHistoryExtras,
): BackfillSource {
  return async (request, context) => {
    const { simulator, ingestor, sink } = deps;
    const traded = simulator.symbols;
    const unknown = request.symbols.filter((s) => !traded.includes(s));
    if (unknown.length > 0) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `the simulator does not trade ${unknown.join(', ')}; it trades ${traded.join(', ')}`,
        { symbols: unknown.join(',') },
      );
    }
    if (request.symbols.length > 0 && request.symbols.length < traded.length) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `the simulator backfills all its symbols at once (the lake's watermark covers every symbol): name all of ${traded.join(', ')}, or none`,
        { symbols: request.symbols.join(',') },
      );
    }
    if (request.to > deps.now()) {
      throw new AlphalakeError('BAD_USER_INPUT', 'a backfill cannot reach past now', {
        to: request.to,
      });
    }
    const watermark = sink.watermark();
    const from = watermark === undefined ? request.from : Math.min(request.from, watermark);
    const to = request.to;
    if (deps.events) {
      await publishSimulatorEvents(
        simulator,
        deps.events,
        { from, to },
        { signal: context.signal },
      );
    }
    let rows = 0;
    let chunkStart = from;
    let chunk: Trade[] = [];
    const write = async (chunkEnd: number) => {
      const sent = deps.imperfector ? deps.imperfector.apply(chunk) : chunk;
      const checked = ingestor.check({ trades: sent, quotes: [] }, 'simulator-backfill');
      await sink.writeHistory(
        { from: chunkStart, to: chunkEnd },
        checked.trades,
        checked.rejects,
        context.signal,
      );
      rows += checked.trades.length;
      chunkStart = chunkEnd;
      chunk = [];
      await context.progress({ percent: ((chunkEnd - from) / (to - from)) * 100, rows });
    };
    for (const second of simulator.tape(from, to, { quotes: false })) {
      if (second.ts >= chunkStart + CHUNK_US) {
        context.signal.throwIfAborted();
        await write(chunkStart + Math.floor((second.ts - chunkStart) / CHUNK_US) * CHUNK_US);
      }
      for (const trade of second.trades) chunk.push(trade);
    }
    if (chunkStart < to) await write(to);
  };
}
