import {
  DAY_US,
  MILLISECOND_US,
  SECOND_US,
  sessionsBetween,
  utcDate,
  type CorporateAction,
  type Quote,
  type Session,
  type Trade,
  type TradingCalendar,
} from '../../domain/index.js';
import { Random } from './random.js';
import { SimulatorEvents, type Halt, type SimulatorEventSettings } from './simulator-events.js';

/**
 * A deterministic market: the tape of any session is a pure function of
 * (seed, symbols, session), so a backfill, a restart and a live run all see the same
 * ticks. Its shape is that of a real tape, simplified:
 * - one market factor drives every symbol (beta-weighted), plus idiosyncratic noise
 *   with fat tails, so returns correlate;
 * - overnight gaps come from a daily random walk anchored at 2020-01-01;
 * - trade arrivals are Poisson with a U-shaped intraday intensity (busy open and close);
 * - trade sizes mix odd lots with Pareto-distributed round lots;
 * - trade times are microseconds within their second, so several trades can share a
 *   millisecond (and, rarely, a microsecond); `seq` orders them (docs/time.md);
 * - quotes have a spread of a few basis points, trades print at bid or ask;
 * - with `events`, the tape follows its own corporate actions and halts
 *   (simulator-events.ts): after a split's ex-date prices are divided by the split's
 *   ratio and sizes multiplied by it, after a cash dividend's ex-date the price is lower
 *   by the dividend, and a halted symbol neither trades nor quotes. The daily walk itself
 *   (openingMid) is the adjusted, total-return price; the tape prints the raw one.
 */
export interface SimulatorSettings {
  readonly seed: number;
  readonly symbols: readonly string[];
  readonly calendar: TradingCalendar;
  /** Average trades per second per symbol over a session. */
  readonly tradesPerSecond: number;
  /** Corporate actions, news and halts around the tape; none when absent. */
  readonly events?: Omit<SimulatorEventSettings, 'seed' | 'symbols'>;
}

/**
 * What the raw tape is multiplied by on a day, relative to the adjusted walk: the
 * product of every split's and dividend's factor with ex-date on or before it.
 */
export interface RawScale {
  readonly price: number;
  readonly volume: number;
}

const UNSCALED: RawScale = Object.freeze({ price: 1, volume: 1 });

/** A day's raw scale and the corporate actions that took effect on it. */
interface ScaledDay extends RawScale {
  readonly actions: readonly CorporateAction[];
}

export interface TapeOptions {
  /** Build quotes too (default true). */
  readonly quotes?: boolean;
}

/** Everything that happened in one second of one session. */
export interface TapeSecond {
  /** Start of the second, epoch µs. */
  readonly ts: number;
  readonly trades: readonly Trade[];
  readonly quotes: readonly Quote[];
}

interface SymbolProfile {
  readonly symbol: string;
  readonly basePrice: number;
  readonly beta: number;
  /** Daily volatility of the idiosyncratic part. */
  readonly idioVol: number;
  /** Relative trading activity (1 = average). */
  readonly activity: number;
  readonly spreadBps: number;
}

const KNOWN_PROFILES: Record<string, Omit<SymbolProfile, 'symbol'>> = {
  AAPL: { basePrice: 190, beta: 1.1, idioVol: 0.011, activity: 1.3, spreadBps: 1.0 },
  AMZN: { basePrice: 180, beta: 1.2, idioVol: 0.014, activity: 1.1, spreadBps: 1.2 },
  GOOGL: { basePrice: 170, beta: 1.05, idioVol: 0.013, activity: 0.9, spreadBps: 1.2 },
  MSFT: { basePrice: 420, beta: 0.95, idioVol: 0.01, activity: 1.0, spreadBps: 0.8 },
  NVDA: { basePrice: 120, beta: 1.7, idioVol: 0.025, activity: 1.6, spreadBps: 1.5 },
  TSLA: { basePrice: 250, beta: 1.9, idioVol: 0.03, activity: 1.4, spreadBps: 2.0 },
};

const EPOCH_DAY = Date.UTC(2020, 0, 1) * MILLISECOND_US;
const MARKET_DAILY_VOL = 0.011;
const MARKET_DAILY_DRIFT = 0.0003;
const EXCHANGES = ['XNAS', 'XNYS', 'ARCX', 'BATS', 'EDGX', 'IEXG'] as const;

export class MarketSimulator {
  private readonly profiles: readonly SymbolProfile[];
  /** Splits, dividends, news and halts, when the settings ask for them. */
  readonly events: SimulatorEvents | undefined;
  /** The market's daily step, by day since 2020-01-01 (shared by every symbol). */
  private readonly marketSteps: number[] = [];
  /** Per symbol, its log opening mid by day since 2020-01-01 (the adjusted walk). */
  private readonly walks = new Map<string, number[]>();
  /** Per symbol, its raw scale by day since 2020-01-01. */
  private readonly scales = new Map<string, ScaledDay[]>();

  constructor(readonly settings: SimulatorSettings) {
    this.profiles = settings.symbols.map((symbol) => profileOf(settings.seed, symbol));
    this.events = settings.events
      ? new SimulatorEvents({ ...settings.events, seed: settings.seed, symbols: settings.symbols })
      : undefined;
  }

  get symbols(): readonly string[] {
    return this.settings.symbols;
  }

  /**
   * The tape of [from, to), second by second, across every session it overlaps.
   * `quotes: false` leaves quotes out (a trades-only backfill need not build them).
   */
  *tape(from: number, to: number, options: TapeOptions = {}): Generator<TapeSecond> {
    for (const session of sessionsBetween(this.settings.calendar, from, to)) {
      for (const second of this.sessionTape(session, from, options)) {
        if (second.ts >= to) return;
        yield clip(second, from, to);
      }
    }
  }

  /** The tape of one session from its open, skipping whole seconds before `from`. */
  *sessionTape(
    session: Session,
    from = session.open,
    options: TapeOptions = {},
  ): Generator<TapeSecond> {
    const withQuotes = options.quotes ?? true;
    const { seed, tradesPerSecond } = this.settings;
    const random = new Random(`${seed}|session|${session.date}`);
    const seconds = Math.max(1, Math.round((session.close - session.open) / SECOND_US));
    const perSecondScale = 1 / Math.sqrt(seconds);
    const scales = this.profiles.map((p) => this.rawScaleOf(p, session.open));
    const mids = this.profiles.map((p, s) => this.openingPrice(p, session.open) * scales[s]!.price);
    const halts: readonly (readonly Halt[])[] = this.profiles.map(
      (p) => this.events?.haltsOf(p.symbol, session) ?? [],
    );
    const halted = (s: number, at: number) =>
      halts[s]!.some((halt) => at >= halt.from && at < halt.to);
    const sequence = this.profiles.map(() => 0);
    const datePrefix = session.date.replaceAll('-', '');
    for (let i = 0; i < seconds; i++) {
      const ts = session.open + i * SECOND_US;
      // Draw every second, even skipped ones: the path must not depend on `from`.
      const market = MARKET_DAILY_VOL * perSecondScale * random.shock();
      const x = (i + 0.5) / seconds;
      const intensity = (1 + 3 * (2 * x - 1) ** 2) / 2;
      const trades: Trade[] = [];
      const quotes: Quote[] = [];
      for (let s = 0; s < this.profiles.length; s++) {
        const profile = this.profiles[s]!;
        const idio = profile.idioVol * perSecondScale * random.shock();
        const mid = mids[s]! * Math.exp(profile.beta * market + idio);
        mids[s] = mid;
        const halfSpread = Math.max(
          0.005,
          (mid * profile.spreadBps * (0.6 + random.next())) / 20_000,
        );
        const bid = roundCents(mid - halfSpread);
        const ask = Math.max(bid + 0.01, roundCents(mid + halfSpread));
        const count = random.poisson(tradesPerSecond * profile.activity * intensity);
        const quoteBidSize = 100 * (1 + Math.floor(random.pareto(1.8)));
        const quoteAskSize = 100 * (1 + Math.floor(random.pareto(1.8)));
        if (count === 0 && ts < from) continue;
        const offsets: number[] = [];
        // Microseconds within the second (one draw each, as whole milliseconds once were).
        for (let k = 0; k < count; k++) offsets.push(Math.floor(random.next() * SECOND_US));
        if (count > 1) offsets.sort((a, b) => a - b);
        if (ts < from) {
          // Skipped seconds still consume their draws: the path must not depend on `from`.
          for (let k = 0; k < count; k++) {
            random.next();
            tradeSize(random);
            random.next();
          }
          sequence[s]! += count;
          continue;
        }
        if (withQuotes && !halted(s, ts)) {
          quotes.push({
            symbol: profile.symbol,
            ts,
            bidPrice: bid,
            bidSize: quoteBidSize,
            askPrice: ask,
            askSize: quoteAskSize,
          });
        }
        for (let k = 0; k < count; k++) {
          const buy = random.next() < 0.5;
          const size = scaledSize(tradeSize(random), scales[s]!.volume);
          const exchange = EXCHANGES[Math.floor(random.next() * EXCHANGES.length)]!;
          sequence[s]! += 1;
          // A halted symbol does not trade; its draws are spent all the same.
          if (halted(s, ts + offsets[k]!)) continue;
          trades.push({
            symbol: profile.symbol,
            ts: ts + offsets[k]!,
            price: buy ? ask : bid,
            size,
            id: `${datePrefix}-${sequence[s]}`,
            seq: sequence[s]!,
            exchange,
          });
        }
      }
      if (ts + SECOND_US <= from) continue;
      // Across symbols by time; a symbol's own trades keep their (ts, seq) order.
      if (trades.length > 1) trades.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
      yield { ts, trades, quotes };
    }
  }

  /**
   * The opening mid of `symbol` on the UTC day of `dayStart`: the daily random walk whose
   * step from day d to d + 1 is drawn from `${seed}|day|${d}` (market) and
   * `${seed}|day|${d}|${symbol}` (its own part). Simulated news reads the latter
   * (simulator-events.ts) to plant a signal.
   */
  openingMid(symbol: string, dayStart: number): number | undefined {
    const profile = this.profiles.find((p) => p.symbol === symbol);
    return profile && this.openingPrice(profile, dayStart);
  }

  /**
   * What the raw tape of `symbol` is multiplied by on the UTC day of `dayStart`
   * (RawScale): 1 before its first corporate action, or without events.
   */
  rawScale(symbol: string, dayStart: number): RawScale {
    const profile = this.profiles.find((p) => p.symbol === symbol);
    return profile ? this.rawScaleOf(profile, dayStart) : UNSCALED;
  }

  /** Opening mid of a session: a daily random walk from the symbol's base price. */
  private openingPrice(profile: SymbolProfile, sessionOpen: number): number {
    const day = Math.floor((sessionOpen - EPOCH_DAY) / DAY_US);
    return roundCents(Math.exp(this.logOpening(profile, day)));
  }

  /** The log opening mid of day `day` since 2020-01-01, walked once and remembered. */
  private logOpening(profile: SymbolProfile, day: number): number {
    let walk = this.walks.get(profile.symbol);
    if (!walk) {
      walk = [Math.log(profile.basePrice)];
      this.walks.set(profile.symbol, walk);
    }
    const base = Math.log(profile.basePrice);
    for (let d = walk.length - 1; d < day; d++) {
      const logPrice = walk[d]!;
      const idio = new Random(`${this.settings.seed}|day|${d}|${profile.symbol}`).normal();
      // Mean reversion keeps six years of random walk in a plausible price range.
      const pull = 0.002 * (base - logPrice);
      // One sum added at once, as the walk always has: the same doubles, day for day.
      walk.push(logPrice + (profile.beta * this.marketStep(d) + profile.idioVol * idio + pull));
    }
    return walk[Math.max(0, day)]!;
  }

  private marketStep(day: number): number {
    for (let d = this.marketSteps.length; d <= day; d++) {
      const random = new Random(`${this.settings.seed}|day|${d}`);
      this.marketSteps.push(MARKET_DAILY_DRIFT + MARKET_DAILY_VOL * random.normal());
    }
    return this.marketSteps[day]!;
  }

  /**
   * The splits and dividends with ex-date on the session's date, as the tape applies
   * them (SimulatorEvents.actionsOn, split terms chosen from the raw price): what master
   * data should record. None without events.
   */
  corporateActions(session: Session): CorporateAction[] {
    return this.profiles.flatMap((p) => this.scaledDay(p, session.open)?.actions ?? []);
  }

  /**
   * The raw scale of day `dayStart`: each session's corporate actions multiply into it
   * from their ex-date on. A split of splitFrom → splitTo divides prices by
   * splitTo/splitFrom and multiplies sizes by it; a cash dividend D lowers the raw
   * opening mid of its ex-date by D (price × (1 − D / raw opening mid)), the drop that
   * master data's CRSP dividend factor takes out again (src/mdm/adjustments.ts).
   */
  private rawScaleOf(profile: SymbolProfile, dayStart: number): RawScale {
    const scaled = this.scaledDay(profile, dayStart);
    return scaled ? { price: scaled.price, volume: scaled.volume } : UNSCALED;
  }

  private scaledDay(profile: SymbolProfile, dayStart: number): ScaledDay | undefined {
    const events = this.events;
    const day = Math.floor((dayStart - EPOCH_DAY) / DAY_US);
    if (!events || day < 0) return undefined;
    let scales = this.scales.get(profile.symbol);
    if (!scales) {
      scales = [];
      this.scales.set(profile.symbol, scales);
    }
    for (let d = scales.length; d <= day; d++) {
      let { price, volume } = scales[d - 1] ?? UNSCALED;
      const date = utcDate(EPOCH_DAY + d * DAY_US);
      const actions = this.settings.calendar.sessionOn(date)
        ? events.actionsOn(profile.symbol, date, {
            raw: roundCents(Math.exp(this.logOpening(profile, d))) * price,
            target: profile.basePrice,
          })
        : [];
      for (const action of actions) {
        if (action.kind === 'split') {
          price = (price * action.splitFrom) / action.splitTo;
          volume = (volume * action.splitTo) / action.splitFrom;
        } else {
          const raw = roundCents(Math.exp(this.logOpening(profile, d))) * price;
          // A dividend above half the price would be a liquidation, not a dividend.
          price = price * Math.max(0.5, 1 - action.cashAmount / raw);
        }
      }
      scales.push({ price, volume, actions });
    }
    return scales[day];
  }
}

function profileOf(seed: number, symbol: string): SymbolProfile {
  const known = KNOWN_PROFILES[symbol];
  if (known) return { symbol, ...known };
  const random = new Random(`${seed}|profile|${symbol}`);
  return {
    symbol,
    basePrice: roundCents(20 + random.next() * 300),
    beta: 0.6 + random.next(),
    idioVol: 0.01 + random.next() * 0.02,
    activity: 0.5 + random.next(),
    spreadBps: 1 + random.next() * 4,
  };
}

/** 30% odd lots (1–99 shares), the rest round lots with a Pareto tail. */
function tradeSize(random: Random): number {
  if (random.next() < 0.3) return 1 + Math.floor(random.next() * 99);
  return 100 * Math.min(500, Math.floor(random.pareto(1.6)));
}

/** A size on the raw basis: whole shares, at least one. */
function scaledSize(size: number, volume: number): number {
  return volume === 1 ? size : Math.max(1, Math.round(size * volume));
}

function roundCents(price: number): number {
  return Math.round(price * 100) / 100;
}

function clip(second: TapeSecond, from: number, to: number): TapeSecond {
  if (second.ts >= from && second.ts + SECOND_US <= to) return second;
  return {
    ts: second.ts,
    trades: second.trades.filter((t) => t.ts >= from && t.ts < to),
    quotes: second.quotes.filter((q) => q.ts >= from && q.ts < to),
  };
}
