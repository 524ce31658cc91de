import {
  completedSessions,
  floorToMinute,
  type Trade,
  type TradingCalendar,
} from '../domain/index.js';
import type { Ingestor, Reject } from './ingestor.js';
import type { MarketSimulator } from './simulator.js';

/**
 * Where history goes: the batch layer implements this port, so a backfill lands in
 * the lake through the same commit path as the live stream.
 */
export interface HistorySink {
  /** Event time up to which the lake is complete, or undefined for an empty lake. */
  watermark(): number | undefined;
  /** Writes the trades of [from, to) (both minute-aligned) and moves the watermark to `to`. */
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
}

/**
 * Brings the lake up to `now` from the simulator: from the watermark if there is one
 * (a restart fills the gap it left), else from the open of the `sessions`-th most
 * recent completed session. Works a session-sized chunk at a time to bound memory.
 */
export async function backfillFromSimulator(options: {
  simulator: MarketSimulator;
  ingestor: Ingestor;
  sink: HistorySink;
  calendar: TradingCalendar;
  now: number;
  sessions: number;
  signal?: AbortSignal;
}): Promise<BackfillResult> {
  const { simulator, ingestor, sink, calendar, sessions, signal } = options;
  const to = floorToMinute(options.now);
  const recent = completedSessions(calendar, options.now, Math.max(1, sessions));
  const earliest = sessions > 0 ? (recent[0]?.open ?? to) : to;
  const watermark = sink.watermark();
  const from = watermark === undefined ? earliest : Math.max(watermark, earliest);
  let trades = 0;
  let rejected = 0;
  const CHUNK_MS = 6 * 3_600_000;
  for (let start = from; start < to; start += CHUNK_MS) {
    signal?.throwIfAborted();
    const end = Math.min(to, start + CHUNK_MS);
    const chunk: Trade[] = [];
    for (const second of simulator.tape(start, end)) chunk.push(...second.trades);
    const checked = ingestor.check({ trades: chunk, quotes: [] }, 'simulator-backfill');
    await sink.writeHistory({ from: start, to: end }, checked.trades, checked.rejects, signal);
    trades += checked.trades.length;
    rejected += checked.rejects.length;
  }
  return { from, to, sessions: recent.length, trades, rejected };
}
