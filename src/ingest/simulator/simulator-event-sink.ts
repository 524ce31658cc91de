import {
  sessionsBetween,
  type CorporateAction,
  type NewsItem,
  type Session,
} from '../../domain/index.js';
import type { MarketSimulator } from './simulator.js';

/**
 * Where the simulator's events go besides its tape (the composition root implements it):
 * splits and dividends into master data, once each (addCorporateActionOnce, as the
 * vendor sources do), and news to the bus's `news` topic and into bronze.news.
 */
export interface SimulatorEventSink {
  corporateActions(actions: readonly CorporateAction[], signal?: AbortSignal): Promise<void>;
  news(items: readonly NewsItem[], signal?: AbortSignal): Promise<void>;
}

export interface PublishedEvents {
  readonly corporateActions: number;
  readonly news: number;
}

/**
 * Publishes the simulator's events of [from, to): the corporate actions of every session
 * that overlaps it (ex-date on the session's date, so adjusted reads of the session's
 * trades see them) unless `announced` holds that session's date already, and the news
 * published within it. A range is published once by the caller (the feed's cursor, a
 * backfill's chunk); a corporate action published twice is recorded once all the same.
 */
export async function publishSimulatorEvents(
  simulator: MarketSimulator,
  sink: SimulatorEventSink,
  range: { readonly from: number; readonly to: number },
  options: { announced?: Set<string>; signal?: AbortSignal } = {},
): Promise<PublishedEvents> {
  const events = simulator.events;
  if (!events || range.to <= range.from) return { corporateActions: 0, news: 0 };
  const { announced, signal } = options;
  const sessions: Session[] = sessionsBetween(simulator.settings.calendar, range.from, range.to);
  const actions: CorporateAction[] = [];
  const news: NewsItem[] = [];
  const dates: string[] = [];
  for (const session of sessions) {
    if (!announced?.has(session.date)) {
      actions.push(...simulator.corporateActions(session));
      dates.push(session.date);
    }
    for (const simulated of events.news(session)) {
      const at = simulated.item.publishedAt;
      if (at >= range.from && at < range.to) news.push(simulated.item);
    }
  }
  if (actions.length > 0) await sink.corporateActions(actions, signal);
  // Announced once recorded: a failed attempt is made again on the next call.
  for (const date of dates) announced?.add(date);
  if (news.length > 0) await sink.news(news, signal);
  return { corporateActions: actions.length, news: news.length };
}
