import { utcDate } from './market.js';
import { DAY_US, MILLISECOND_US } from './time.js';

const DAY_MS = 86_400_000;

/** A trading session: the market is open in [open, close) (epoch µs). `date` names it. */
export interface Session {
  readonly date: string;
  readonly open: number;
  readonly close: number;
}

export type CalendarName = '24x7' | 'nyse';

export interface TradingCalendar {
  readonly name: CalendarName;
  /** The session on a calendar date, or undefined on a weekend or holiday. */
  sessionOn(date: string): Session | undefined;
}

/** Every session that overlaps [from, to), oldest first. */
export function sessionsBetween(calendar: TradingCalendar, from: number, to: number): Session[] {
  const sessions: Session[] = [];
  for (let day = Math.floor(from / DAY_US) * DAY_US - DAY_US; day < to + DAY_US; day += DAY_US) {
    const session = calendar.sessionOn(utcDate(day));
    if (session && session.close > from && session.open < to) sessions.push(session);
  }
  return sessions;
}

/** The `count` most recent sessions that had closed by `now`, oldest first. */
export function completedSessions(
  calendar: TradingCalendar,
  now: number,
  count: number,
): Session[] {
  const sessions: Session[] = [];
  for (let day = Math.floor(now / DAY_US) * DAY_US; sessions.length < count; day -= DAY_US) {
    const session = calendar.sessionOn(utcDate(day));
    if (session && session.close <= now) sessions.unshift(session);
    if (now - day > 400 * DAY_US) break;
  }
  return sessions;
}

/** Around the clock: every UTC day is one session, weekends included. */
export const ALWAYS_OPEN: TradingCalendar = {
  name: '24x7',
  sessionOn(date) {
    const open = Date.parse(`${date}T00:00:00Z`) * MILLISECOND_US;
    return Number.isNaN(open) ? undefined : { date, open, close: open + DAY_US };
  },
};

/**
 * NYSE regular hours, 09:30–16:00 America/New_York, with the exchange's holiday
 * rules and 13:00 early closes (day after Thanksgiving, Christmas Eve, July 3).
 */
export const NYSE: TradingCalendar = {
  name: 'nyse',
  sessionOn(date) {
    const day = new Date(`${date}T12:00:00Z`);
    if (Number.isNaN(day.getTime())) return undefined;
    const weekday = day.getUTCDay();
    if (weekday === 0 || weekday === 6) return undefined;
    if (nyseHolidays(day.getUTCFullYear()).has(date)) return undefined;
    const closeTime = nyseEarlyCloses(day.getUTCFullYear()).has(date) ? '13:00' : '16:00';
    return {
      date,
      open: newYorkToUtc(date, '09:30'),
      close: newYorkToUtc(date, closeTime),
    };
  },
};

export function calendarNamed(name: CalendarName): TradingCalendar {
  return name === 'nyse' ? NYSE : ALWAYS_OPEN;
}

/** Converts a wall-clock time in New York on `date` to epoch µs, DST-aware. */
export function newYorkToUtc(date: string, time: string): number {
  return newYorkToUtcMillis(date, time) * MILLISECOND_US;
}

function newYorkToUtcMillis(date: string, time: string): number {
  const guess = Date.parse(`${date}T${time}:00Z`);
  // The offset of New York at that instant, from the platform's tz database.
  const offsetMinutes = (instant: number) => {
    const parts = NEW_YORK_PARTS.formatToParts(new Date(instant));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const local = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour') % 24,
      get('minute'),
    );
    return (local - Math.floor(instant / 60_000) * 60_000) / 60_000;
  };
  const first = guess - offsetMinutes(guess) * 60_000;
  return guess - offsetMinutes(first) * 60_000;
}

const NEW_YORK_PARTS = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
});

const holidayCache = new Map<number, Set<string>>();

/** NYSE full-day holidays of a year (NYSE Rule 7.2 and its observance conventions). */
export function nyseHolidays(year: number): Set<string> {
  const cached = holidayCache.get(year);
  if (cached) return cached;
  const days = new Set<string>();
  const fixed = (month: number, dayOfMonth: number, allowSaturdayShift = true) => {
    const date = new Date(Date.UTC(year, month - 1, dayOfMonth));
    const weekday = date.getUTCDay();
    if (weekday === 6) {
      // Saturday holidays are observed on Friday, except New Year's Day (no
      // Friday closing that would fall in the previous year).
      if (allowSaturdayShift) days.add(iso(addDays(date, -1)));
    } else if (weekday === 0) days.add(iso(addDays(date, 1)));
    else days.add(iso(date));
  };
  fixed(1, 1, false);
  days.add(iso(nthWeekday(year, 1, 1, 3))); // Martin Luther King Jr. Day
  days.add(iso(nthWeekday(year, 2, 1, 3))); // Washington's Birthday
  days.add(iso(addDays(easterSunday(year), -2))); // Good Friday
  days.add(iso(lastWeekday(year, 5, 1))); // Memorial Day
  if (year >= 2022) fixed(6, 19); // Juneteenth
  fixed(7, 4);
  days.add(iso(nthWeekday(year, 9, 1, 1))); // Labor Day
  days.add(iso(nthWeekday(year, 11, 4, 4))); // Thanksgiving
  fixed(12, 25);
  holidayCache.set(year, days);
  return days;
}

function nyseEarlyCloses(year: number): Set<string> {
  const days = new Set<string>();
  const holidays = nyseHolidays(year);
  const tradingWeekday = (date: Date) =>
    date.getUTCDay() !== 0 && date.getUTCDay() !== 6 && !holidays.has(iso(date));
  const candidates = [
    addDays(nthWeekday(year, 11, 4, 4), 1),
    new Date(Date.UTC(year, 11, 24)),
    new Date(Date.UTC(year, 6, 3)),
  ];
  for (const date of candidates) if (tradingWeekday(date)) days.add(iso(date));
  return days;
}

function iso(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

function nthWeekday(year: number, month: number, weekday: number, n: number): Date {
  const first = new Date(Date.UTC(year, month - 1, 1));
  const offset = (weekday - first.getUTCDay() + 7) % 7;
  return new Date(Date.UTC(year, month - 1, 1 + offset + (n - 1) * 7));
}

function lastWeekday(year: number, month: number, weekday: number): Date {
  const last = new Date(Date.UTC(year, month, 0));
  const offset = (last.getUTCDay() - weekday + 7) % 7;
  return new Date(Date.UTC(year, month - 1, last.getUTCDate() - offset));
}

/** Gregorian Easter (anonymous Gregorian algorithm). */
function easterSunday(year: number): Date {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return new Date(Date.UTC(year, month - 1, day));
}
