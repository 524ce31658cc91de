import {
  DAY_US,
  MILLISECOND_US,
  MINUTE_US,
  type CorporateAction,
  type NewsItem,
  type Session,
  type Trade,
} from '../../domain/index.js';
import { Random } from './random.js';

/**
 * What the simulator adds around its tape, each a pure function of (seed, symbol, day),
 * so the tape itself (simulator.ts) is unchanged: corporate actions, news with a planted
 * signal, trading halts, and a feed's imperfections (duplicate, out-of-order, late ticks).
 */
export interface SimulatorEventSettings {
  readonly seed: number;
  readonly symbols: readonly string[];
  /** Expected splits per symbol per year (252 sessions). */
  readonly splitsPerYear?: number;
  /** Expected cash dividends per symbol per year. */
  readonly dividendsPerYear?: number;
  /** Expected news items per symbol per session. */
  readonly newsPerSession?: number;
  /**
   * How well a news item's sentiment predicts the symbol's next-day return: the
   * correlation of the sentiment score with the next day's idiosyncratic shock, in [0, 1].
   * 0: pure noise; 1: the sign and size of tomorrow's own move.
   */
  readonly newsSignalStrength?: number;
  /** Expected trading halts per symbol per session (each 5 to 30 minutes). */
  readonly haltsPerSession?: number;
}

/** Where a symbol does not trade: [from, to), epoch µs. */
export interface Halt {
  readonly symbol: string;
  readonly from: number;
  readonly to: number;
}

/** A simulated news item with the score it was written from (the planted signal). */
export interface SimulatedNews {
  readonly item: NewsItem;
  /** In [−1, 1]. */
  readonly sentiment: number;
}

const EPOCH_DAY = Date.UTC(2020, 0, 1) * MILLISECOND_US;
const SESSIONS_PER_YEAR = 252;

const POSITIVE = ['beats estimates', 'raises guidance', 'wins major contract', 'upgraded'];
/** Split terms [splitFrom, splitTo]: 1→2, 1→3, 1→4, 2→3, and a 10→1 reverse split. */
const SPLIT_TERMS = [
  [1, 2],
  [1, 3],
  [1, 4],
  [2, 3],
  [10, 1],
] as const;

const NEGATIVE = ['misses estimates', 'cuts guidance', 'faces probe', 'downgraded'];

export class SimulatorEvents {
  constructor(readonly settings: SimulatorEventSettings) {}

  /** Splits and dividends with ex-date on the session's day. */
  corporateActions(session: Session): CorporateAction[] {
    return this.settings.symbols.flatMap((symbol) => this.actionsOn(symbol, session.date));
  }

  /**
   * The splits and dividends of `symbol` with ex-date `date` (a session's date), split
   * first: the simulator's tape applies them (MarketSimulator), master data records them.
   * Given the raw price before the split and the price the company aims for, a split's
   * terms are those that bring the price nearest to it (companies split to get back to a
   * familiar price range, and reverse-split when it has fallen far): raw prices stay in
   * a plausible range however many splits a long history holds. Without, they are drawn.
   */
  actionsOn(
    symbol: string,
    date: string,
    price?: { readonly raw: number; readonly target: number },
  ): CorporateAction[] {
    const actions: CorporateAction[] = [];
    const random = new Random(`${this.settings.seed}|actions|${date}|${symbol}`);
    if (random.next() < (this.settings.splitsPerYear ?? 0.05) / SESSIONS_PER_YEAR) {
      const drawn = Math.floor(random.next() * SPLIT_TERMS.length);
      const [splitFrom, splitTo] = price
        ? nearestTerms(price.raw, price.target)
        : SPLIT_TERMS[drawn]!;
      actions.push({
        kind: 'split',
        symbol,
        exDate: date,
        splitFrom,
        splitTo,
        source: 'simulator',
      });
    }
    if (random.next() < (this.settings.dividendsPerYear ?? 4) / SESSIONS_PER_YEAR) {
      const cents = 5 + Math.floor(random.next() * 95);
      actions.push({
        kind: 'dividend',
        symbol,
        exDate: date,
        cashAmount: cents / 100,
        currency: 'USD',
        source: 'simulator',
      });
    }
    return actions;
  }

  /** The halts of `symbol` in the session. */
  haltsOf(symbol: string, session: Session): Halt[] {
    const random = new Random(`${this.settings.seed}|halts|${session.date}|${symbol}`);
    const count = random.poisson(this.settings.haltsPerSession ?? 0.02);
    const halts: Halt[] = [];
    for (let k = 0; k < count; k++) {
      const length = (5 + Math.floor(random.next() * 26)) * MINUTE_US;
      const from =
        session.open +
        Math.floor(random.next() * Math.max(1, session.close - session.open - length));
      halts.push({ symbol, from, to: Math.min(session.close, from + length) });
    }
    return halts;
  }

  /**
   * News published during the session. Each item's sentiment is
   * `strength · z + √(1 − strength²) · noise`, squashed into [−1, 1], where z is the
   * symbol's idiosyncratic shock of the next day's step of the simulator's daily walk
   * (MarketSimulator.openingMid): so it predicts the next day's return with a correlation
   * that grows with `newsSignalStrength`. The headline's words follow the sentiment.
   */
  news(session: Session): SimulatedNews[] {
    const { seed, symbols } = this.settings;
    const strength = Math.min(1, Math.max(0, this.settings.newsSignalStrength ?? 0.3));
    const day = Math.floor((session.open - EPOCH_DAY) / DAY_US);
    const news: SimulatedNews[] = [];
    for (const symbol of symbols) {
      const random = new Random(`${seed}|news|${session.date}|${symbol}`);
      const count = random.poisson(this.settings.newsPerSession ?? 1);
      // The draw behind the step from day + 1 to day + 2 (simulator.ts openingPrice).
      const shock = new Random(`${seed}|day|${day + 1}|${symbol}`).normal();
      for (let k = 0; k < count; k++) {
        const score = strength * shock + Math.sqrt(1 - strength ** 2) * random.normal();
        const sentiment = Math.tanh(score);
        const words = sentiment >= 0 ? POSITIVE : NEGATIVE;
        const phrase = words[Math.floor(random.next() * words.length)]!;
        const tone = Math.abs(sentiment) > 0.6 ? 'sharply ' : '';
        const publishedAt =
          session.open + Math.floor(random.next() * (session.close - session.open));
        news.push({
          sentiment,
          item: {
            id: `sim-${session.date}-${symbol}-${k}`,
            publishedAt,
            tickers: [symbol],
            title: `${symbol} ${tone}${phrase}`,
            description: `Simulated news: ${symbol} ${phrase}.`,
            url: `https://simulator.invalid/news/${session.date}/${symbol}/${k}`,
            source: 'simulator',
          },
        });
      }
    }
    return news.sort((a, b) => a.item.publishedAt - b.item.publishedAt);
  }

  /** Trading halts in the session: 5–30 minutes each, within the session. */
  halts(session: Session): Halt[] {
    return this.settings.symbols.flatMap((symbol) => this.haltsOf(symbol, session));
  }
}

/** The split terms after which `raw` lies nearest to `target`, in log terms. */
function nearestTerms(raw: number, target: number): (typeof SPLIT_TERMS)[number] {
  const distance = ([from, to]: (typeof SPLIT_TERMS)[number]) =>
    Math.abs(Math.log((raw * from) / to / target));
  return SPLIT_TERMS.reduce((best, terms) => (distance(terms) < distance(best) ? terms : best));
}

/** The trades outside every halt of their symbol. */
export function withoutHalted(trades: readonly Trade[], halts: readonly Halt[]): Trade[] {
  if (halts.length === 0) return [...trades];
  return trades.filter(
    (t) => !halts.some((h) => h.symbol === t.symbol && t.ts >= h.from && t.ts < h.to),
  );
}

export interface FeedImperfections {
  /** Share of trades sent twice (the copy right after). */
  readonly duplicateRate: number;
  /** Share of trades swapped with the next one. */
  readonly outOfOrderRate: number;
  /** Share of trades held back and sent `lateBatches` batches later. */
  readonly lateRate: number;
  readonly lateBatches: number;
}

/**
 * A feed's imperfections, batch after batch, deterministic for a seed: duplicates (same
 * id: the ingest path drops them as DUPLICATE), out-of-order neighbours, and late trades
 * (held back `lateBatches` batches; the sink records those behind its watermark as
 * LATE_EVENT).
 */
export class FeedImperfector {
  private readonly random: Random;
  private readonly held: { due: number; trade: Trade }[] = [];
  private index = 0;

  constructor(
    private readonly imperfections: FeedImperfections,
    seed: number,
  ) {
    this.random = new Random(`${seed}|feed`);
  }

  /** The batch as the imperfect feed sends it, with the late trades now due. */
  apply(batch: readonly Trade[]): Trade[] {
    const { duplicateRate, outOfOrderRate, lateRate, lateBatches } = this.imperfections;
    const random = this.random;
    const out: Trade[] = [];
    for (const trade of batch) {
      if (lateRate > 0 && random.next() < lateRate) {
        this.held.push({ due: this.index + lateBatches, trade });
        continue;
      }
      out.push(trade);
      if (duplicateRate > 0 && random.next() < duplicateRate) out.push({ ...trade });
    }
    if (outOfOrderRate > 0) {
      for (let i = 0; i + 1 < out.length; i++) {
        if (random.next() < outOfOrderRate) {
          [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
          i++;
        }
      }
    }
    const due = this.held.filter((h) => h.due <= this.index);
    for (const h of due) this.held.splice(this.held.indexOf(h), 1);
    this.index++;
    return [...out, ...due.map((h) => h.trade)];
  }

  /** The trades still held back. */
  drain(): Trade[] {
    return this.held.splice(0).map((h) => h.trade);
  }
}

/** `FeedImperfector` over a sequence of batches; the held-back trades come last. */
export function* imperfectFeed(
  batches: Iterable<readonly Trade[]>,
  imperfections: FeedImperfections,
  seed: number,
): Generator<Trade[]> {
  const imperfector = new FeedImperfector(imperfections, seed);
  for (const batch of batches) yield imperfector.apply(batch);
  const rest = imperfector.drain();
  if (rest.length > 0) yield rest;
}
