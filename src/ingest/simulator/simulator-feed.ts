import {
  DAY_US,
  SECOND_US,
  utcDate,
  type Clock,
  type Quote,
  type Session,
  type Trade,
} from '../../domain/index.js';
import type { Ingestor } from '../ingestor.js';
import type { MarketSimulator, TapeSecond } from './simulator.js';
import { processLogger } from '../../logging/index.js';
import type { FeedImperfector } from './simulator-events.js';
import { publishSimulatorEvents, type SimulatorEventSink } from './simulator-event-sink.js';

const BATCH_LIMIT = 20_000;

/**
 * Plays the simulator as a live source in wall-clock time: every trade and quote of the
 * tape is published once its event time has passed (checked every tick). Started behind
 * the clock, it first catches up in large batches. With an event sink, each session's
 * splits and dividends go to master data as the feed reaches the session, and each news
 * item once its publication time has passed.
 */
export class SimulatorFeed {
  private cursor: number;
  private current:
    | { session: Session; tape: Iterator<TapeSecond>; pending?: TapeSecond }
    | undefined;
  /** Sessions whose corporate actions went to the event sink. */
  private readonly announced = new Set<string>();
  /** Event time up to which news went to the event sink. */
  private eventsCursor: number;

  constructor(
    private readonly simulator: MarketSimulator,
    private readonly ingestor: Ingestor,
    private readonly clock: Clock,
    from: number,
    /** Duplicate, out-of-order and late trades at configured rates (SIM_*_RATE). */
    private readonly imperfector?: FeedImperfector,
    /** Corporate actions and news of the simulator's events (SIM_SPLITS_PER_YEAR, …). */
    private readonly events?: SimulatorEventSink,
  ) {
    this.cursor = from;
    this.eventsCursor = from;
  }

  /** Event time up to which the tape has been published. */
  get position(): number {
    return this.cursor;
  }

  /** Publishes every tape record before `until`. Returns trades published. */
  async pump(until: number, signal?: AbortSignal): Promise<number> {
    if (this.events && until > this.eventsCursor) {
      await publishSimulatorEvents(
        this.simulator,
        this.events,
        { from: this.eventsCursor, to: until },
        { announced: this.announced, ...(signal ? { signal } : {}) },
      );
      this.eventsCursor = until;
    }
    let trades: Trade[] = [];
    let quotes: Quote[] = [];
    let published = 0;
    const flush = async () => {
      if (this.imperfector) trades = this.imperfector.apply(trades);
      if (trades.length + quotes.length === 0) return;
      await this.ingestor.ingest({ trades, quotes }, 'simulator');
      published += trades.length;
      trades = [];
      quotes = [];
    };
    for (;;) {
      if (!this.current) {
        const session = this.nextSession(this.cursor);
        if (!session || session.open >= until) {
          // Nothing trades before `until`: the tape is published up to there.
          this.cursor = Math.max(this.cursor, Math.min(until, session?.open ?? until));
          break;
        }
        const tape = this.simulator.sessionTape(session, Math.max(this.cursor, session.open));
        this.current = { session, tape };
      }
      const next: TapeSecond | undefined = this.current.pending ?? this.current.tape.next().value;
      this.current.pending = undefined;
      if (next === undefined) {
        this.cursor = Math.max(this.cursor, this.current.session.close);
        this.current = undefined;
        continue;
      }
      if (next.ts + SECOND_US > until) {
        // The second is still running: what has happened by `until` goes out now, the
        // rest stays pending. A live feed delivers a trade as it happens; holding a whole
        // second back cost every trade up to a second (bench/subscription-latency.ts).
        const due = next.trades.filter((t) => t.ts < until);
        const dueQuotes = next.quotes.filter((q) => q.ts < until);
        trades.push(...due);
        quotes.push(...dueQuotes);
        this.current.pending = {
          ts: next.ts,
          trades: due.length === 0 ? next.trades : next.trades.filter((t) => t.ts >= until),
          quotes: dueQuotes.length === 0 ? next.quotes : next.quotes.filter((q) => q.ts >= until),
        };
        this.cursor = Math.max(this.cursor, until);
        break;
      }
      trades.push(...next.trades);
      quotes.push(...next.quotes);
      this.cursor = next.ts + SECOND_US;
      if (trades.length >= BATCH_LIMIT) await flush();
    }
    await flush();
    return published;
  }

  /**
   * Pumps on a timer (every `tickMs` milliseconds of wall time) until the signal aborts.
   * The tick bounds how long a trade waits after its event time (half of it on average);
   * a tick with nothing due costs a look at the next tape second.
   */
  run(signal: AbortSignal, tickMs = 20): Promise<void> {
    return new Promise((resolve) => {
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        this.pump(this.clock.now(), signal)
          .catch((error) => processLogger().error({ err: error }, 'simulator feed failed'))
          .finally(() => (busy = false));
      }, tickMs);
      signal.addEventListener(
        'abort',
        () => {
          clearInterval(timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** The first session that is still open at or after `ts`. */
  private nextSession(ts: number): Session | undefined {
    const calendar = this.simulator.settings.calendar;
    for (let day = Math.floor(ts / DAY_US) * DAY_US; day < ts + 15 * DAY_US; day += DAY_US) {
      const session = calendar.sessionOn(utcDate(day));
      if (session && session.close > ts) return session;
    }
    return undefined;
  }
}
