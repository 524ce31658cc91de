import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isAlphalakeError } from '../../../src/domain/index.js';
import { DateTimeScalar } from '../../../src/graphql/index.js';

describe('DateTime scalar (epoch µs inside)', () => {
  it('prints six fractional digits when there are sub-millisecond digits, three otherwise', () => {
    expect(DateTimeScalar.serialize(1_709_285_409_292_971)).toBe('2024-03-01T09:30:09.292971Z');
    expect(DateTimeScalar.serialize(1_709_285_409_292_000)).toBe('2024-03-01T09:30:09.292Z');
    expect(DateTimeScalar.serialize(-1)).toBe('1969-12-31T23:59:59.999999Z');
  });

  it('accepts ISO with microseconds and integers of epoch µs', () => {
    expect(DateTimeScalar.parseValue('2024-03-01T09:30:09.292971Z')).toBe(1_709_285_409_292_971);
    expect(
      DateTimeScalar.parseLiteral({ kind: Kind.STRING, value: '2024-03-01T09:30:09.292971Z' }),
    ).toBe(1_709_285_409_292_971);
    expect(DateTimeScalar.parseLiteral({ kind: Kind.INT, value: '1709285409292971' })).toBe(
      1_709_285_409_292_971,
    );
  });

  it.each(['2024-03-01T09:30:09.2929715Z', 'yesterday', 1.5])('refuses %j', (value) => {
    expect(() => DateTimeScalar.parseValue(value)).toSatisfy((fn: () => unknown) => {
      try {
        fn();
        return false;
      } catch (error) {
        return isAlphalakeError(error, 'BAD_USER_INPUT');
      }
    });
  });
});
