import { describe, expect, it } from 'vitest';
import {
  DAY_US,
  floorToMinute,
  isoOfMicros,
  MINUTE_US,
  parseIsoMicros,
  utcDate,
} from '../../../src/domain/index.js';

/** The domain's time helpers at the edges of their range: epoch µs in a number. */
describe('epoch microseconds', () => {
  it.each([
    ['2024-03-01T09:30:09.292971Z', 1_709_285_409_292_971],
    ['2024-03-01T09:30:09.292Z', 1_709_285_409_292_000],
    ['1969-12-31T23:59:59.999999Z', -1],
    ['1900-01-01T00:00:00.000001Z', -2_208_988_799_999_999],
    ['1970-01-01T00:00:00.000Z', 0],
    // The last safe integer of µs: 2255-06-05T23:47:34.740991Z.
    ['2255-06-05T23:47:34.740991Z', Number.MAX_SAFE_INTEGER],
  ])('%s is %d µs, both ways', (iso, micros) => {
    expect(parseIsoMicros(iso)).toBe(micros);
    expect(isoOfMicros(micros)).toBe(iso);
  });

  it('reads zones, a bare date, no zone as UTC, and zeros below the µs', () => {
    expect(parseIsoMicros('2024-03-01T10:30:09.292971+01:00')).toBe(1_709_285_409_292_971);
    expect(parseIsoMicros('2024-03-01T04:30:09.292971-0500')).toBe(1_709_285_409_292_971);
    expect(parseIsoMicros('2024-03-01T09:30:09.292971')).toBe(1_709_285_409_292_971);
    expect(parseIsoMicros('2024-03-01T09:30:09.292971000Z')).toBe(1_709_285_409_292_971);
    expect(parseIsoMicros('2024-03-01')).toBe(1_709_251_200_000_000);
  });

  it.each([
    ['nanoseconds it would drop', '2024-03-01T09:30:09.292971001Z'],
    ['beyond the safe range (9999 needs a bigint)', '9999-12-31T23:59:59.999999Z'],
    ['an impossible day', '2026-02-30T00:00:00Z'],
    ['an impossible hour', '2026-01-01T24:00:00Z'],
    ['prose', 'yesterday-ish'],
  ])('refuses %s', (_case, text) => {
    expect(parseIsoMicros(text)).toBeUndefined();
  });

  it('floors to the minute and names the UTC day, before 1970 too', () => {
    expect(floorToMinute(MINUTE_US + 1)).toBe(MINUTE_US);
    expect(floorToMinute(-1)).toBe(-MINUTE_US);
    expect(utcDate(-1)).toBe('1969-12-31');
    expect(utcDate(DAY_US - 1)).toBe('1970-01-01');
    expect(utcDate(DAY_US)).toBe('1970-01-02');
  });
});
