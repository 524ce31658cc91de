import { describe, expect, it } from 'vitest';
import {
  ALWAYS_OPEN,
  completedSessions,
  NYSE,
  nyseHolidays,
  sessionsBetween,
} from '../../../src/domain/index.js';

/** Epoch µs of ISO text: sessions are in the domain's unit. */
const at = (iso: string): number => Date.parse(iso) * 1_000;

describe('NYSE calendar', () => {
  it('opens 09:30–16:00 New York time, across daylight saving', () => {
    expect(NYSE.sessionOn('2026-07-14')).toEqual({
      date: '2026-07-14',
      open: at('2026-07-14T13:30:00Z'),
      close: at('2026-07-14T20:00:00Z'),
    });
    expect(NYSE.sessionOn('2026-11-20')?.open).toBe(at('2026-11-20T14:30:00Z'));
  });

  it('is closed on weekends and holidays, with observed dates', () => {
    expect(NYSE.sessionOn('2026-11-21')).toBeUndefined(); // Saturday
    expect(NYSE.sessionOn('2026-11-26')).toBeUndefined(); // Thanksgiving
    expect(NYSE.sessionOn('2026-04-03')).toBeUndefined(); // Good Friday
    expect(NYSE.sessionOn('2026-07-03')).toBeUndefined(); // July 4 is a Saturday
    expect(nyseHolidays(2022).has('2021-12-31')).toBe(false); // New Year on Saturday: no Friday closing
    expect(NYSE.sessionOn('2027-06-18')).toBeUndefined(); // Juneteenth on Saturday, observed Friday
  });

  it('closes early the day after Thanksgiving and on Christmas Eve', () => {
    expect(NYSE.sessionOn('2026-11-27')?.close).toBe(at('2026-11-27T18:00:00Z'));
    expect(NYSE.sessionOn('2026-12-24')?.close).toBe(at('2026-12-24T18:00:00Z'));
  });

  it('lists the most recent completed sessions', () => {
    const now = at('2026-11-23T15:00:00Z'); // Monday, in session
    expect(completedSessions(NYSE, now, 3).map((s) => s.date)).toEqual([
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
    ]);
  });
});

describe('around-the-clock calendar', () => {
  it('has one session per UTC day', () => {
    const from = at('2026-11-20T23:00:00Z');
    const to = at('2026-11-21T01:00:00Z');
    expect(sessionsBetween(ALWAYS_OPEN, from, to).map((s) => s.date)).toEqual([
      '2026-11-20',
      '2026-11-21',
    ]);
  });
});
