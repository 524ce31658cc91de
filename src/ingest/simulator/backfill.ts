import {
  completedSessions,
  floorToMinute,
  HOUR_US,
  type Trade,
  type TradingCalendar,
} from '../../domain/index.js';
import type { Ingestor, Reject } from '../ingestor.js';
import type { MarketSimulator } from './simulator.js';
import type { FeedImperfector } from './simulator-events.js';
import { publishSimulatorEvents, type SimulatorEventSink } from './simulator-event-sink.js';

/**
 * Where history goes: the batch layer implements this port, so a backfill lands in
 * the lake through the same commit path as the live stream.
 */
export interface HistorySink {
  /** Event time up to which the lake is complete, or undefined for an empty lake. */
  watermark(): number | undefined;
  /** Writes the trades of [from, to) (epoch µs, both minute-aligned) and moves the watermark to `to`. */
  writeHistory(
    range: { from: number; to: number },
    trades: readonly Trade[],
    rejects: readonly Reject[],
    signal?: AbortSignal,
  ): Promise<void>;
}

export interface BackfillResult {
  readonly from: number;
  readonly to: number;
  readonly sessions: number;
  readonly trades: number;
  readonly rejected: number;
  /** Splits and dividends sent to master data, news items sent to bronze.news. */
  readonly corporateActions: number;
  readonly news: number;
}

/**
 * What a simulator backfill adds to the bare tape: the events (corporate actions into
 * master data, news) and duplicated ticks (SIM_DUPLICATE_RATE) that the ingest path
 * drops and counts. History is written range by range, so late and out-of-order ticks
 * are the live feed's alone: the imperfector given here should send duplicates only.
 */
export interface SimulatorHistoryExtras {
  readonly events?: SimulatorEventSink;
  readonly imperfector?: FeedImperfector;
}

/**
 * Brings the lake up to `now` from the simulator: from the watermark if there is one
 * (a restart fills the gap it left), else from the open of the `sessions`-th most
 * recent completed session. Works a session-sized chunk at a time to bound memory.
 */
/** Event time per commit of a backfill: bounds memory and keeps files a sensible size. */
const CHUNK_US = 6 * HOUR_US;

export async function backfillFromSimulator(
  options: {
    simulator: MarketSimulator;
    ingestor: Ingestor;
    sink: HistorySink;
    calendar: TradingCalendar;
    now: number;
    sessions: number;
    signal?: AbortSignal;
  } & SimulatorHistoryExtras,
): Promise<BackfillResult> {
  const { simulator, ingestor, sink, calendar, sessions, signal, events, imperfector } = options;
  const to = floorToMinute(options.now);
  const recent = completedSessions(calendar, options.now, Math.max(1, sessions));
  const earliest = sessions > 0 ? (recent[0]?.open ?? to) : to;
  const watermark = sink.watermark();
  const from = watermark === undefined ? earliest : Math.max(watermark, earliest);
  let trades = 0;
  let rejected = 0;
  const published = events
    ? await publishSimulatorEvents(simulator, events, { from, to }, signal ? { signal } : {})
    : { corporateActions: 0, news: 0 };
  // One pass over the tape (a session is generated once), cut into chunks of event
  // time that each become one commit per table. The next chunk is simulated while the
  // lake writes the previous one (DuckDB works off the main thread).
  let chunkStart = from;
  let chunk: Trade[] = [];
  let writing: Promise<void> = Promise.resolve();
  const write = async (chunkEnd: number) => {
    const sent = imperfector ? imperfector.apply(chunk) : chunk;
    const checked = ingestor.check({ trades: sent, quotes: [] }, 'simulator-backfill');
    const range = { from: chunkStart, to: chunkEnd };
    await writing;
    writing = sink.writeHistory(range, checked.trades, checked.rejects, signal);
    trades += checked.trades.length;
    rejected += checked.rejects.length;
    chunkStart = chunkEnd;
    chunk = [];
  };
  for (const second of simulator.tape(from, to, { quotes: false })) {
    if (second.ts >= chunkStart + CHUNK_US) {
      signal?.throwIfAborted();
      await write(chunkStart + Math.floor((second.ts - chunkStart) / CHUNK_US) * CHUNK_US);
    }
    for (const trade of second.trades) chunk.push(trade);
  }
  if (chunkStart < to) await write(to);
  await writing;
  return { from, to, sessions: recent.length, trades, rejected, ...published };
}
