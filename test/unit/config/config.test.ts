import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, SETTINGS } from '../../../src/config/index.js';
import { isAlphalakeError } from '../../../src/domain/index.js';

describe('config', () => {
  it('has documented defaults and is frozen', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.simulatorSymbols).toEqual(['AAPL', 'AMZN', 'GOOGL', 'MSFT', 'NVDA', 'TSLA']);
    expect(config.simulatorCalendar).toBe('24x7');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses overrides', () => {
    const config = loadConfig({
      PORT: '4100',
      SIM_SYMBOLS: 'spy, qqq',
      SIM_CALENDAR: 'nyse',
      SIM_ENABLED: 'false',
    });
    expect([
      config.port,
      config.simulatorSymbols,
      config.simulatorCalendar,
      config.simulatorEnabled,
    ]).toEqual([4100, ['SPY', 'QQQ'], 'nyse', false]);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['SIM_CALENDAR', 'lse'],
    ['SIM_ENABLED', 'maybe'],
    ['SIM_SYMBOLS', ' , '],
    ['SIM_TRADES_PER_SECOND', '-1'],
  ])('refuses %s=%s naming the variable', (env, value) => {
    try {
      loadConfig({ [env]: value });
      expect.unreachable();
    } catch (error) {
      expect(isAlphalakeError(error, 'BAD_USER_INPUT')).toBe(true);
      expect((error as Error).message).toContain(env);
    }
  });

  it('matches the configuration table in the README, name for name and default for default', () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
    const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| `([^`]*)` \|/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    const expected = Object.values(SETTINGS).map((s) => [s.env, s.default]);
    expect(rows).toEqual(expected);
  });
});
