import path from 'node:path';
import { AlphalakeError } from '../domain/index.js';

/**
 * Every setting alphalake reads from the environment, in one list. The README's
 * configuration table is checked against this list by a test, so a setting that is
 * added here without documentation fails the build.
 */
export interface Setting<T> {
  readonly env: string;
  readonly default: string;
  readonly description: string;
  readonly parse: (raw: string, env: string) => T;
}

const text = (raw: string): string => raw;
const optionalText = (raw: string): string | undefined => (raw === '' ? undefined : raw);

function integer(min: number, max: number) {
  return (raw: string, env: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw configError(env, raw, `an integer between ${min} and ${max}`);
    }
    return value;
  };
}

function positiveNumber(raw: string, env: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw configError(env, raw, 'a positive number');
  return value;
}

function boolean(raw: string, env: string): boolean {
  const normalized = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off'].includes(normalized)) return false;
  throw configError(env, raw, 'true or false');
}

function oneOf<T extends string>(...values: T[]) {
  return (raw: string, env: string): T => {
    if ((values as string[]).includes(raw)) return raw as T;
    throw configError(env, raw, `one of ${values.join(', ')}`);
  };
}

function symbolList(raw: string, env: string): readonly string[] {
  const symbols = raw
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s.length > 0);
  if (symbols.length === 0 || symbols.some((s) => !/^[A-Z][A-Z0-9.]{0,9}$/.test(s))) {
    throw configError(env, raw, 'a comma-separated list of ticker symbols');
  }
  return Object.freeze([...new Set(symbols)]);
}

function configError(env: string, raw: string, expected: string): AlphalakeError {
  return new AlphalakeError(
    'BAD_USER_INPUT',
    `${env}=${JSON.stringify(raw)} is invalid: expected ${expected}`,
    {
      env,
    },
  );
}

export const SETTINGS = {
  home: {
    env: 'ALPHALAKE_HOME',
    default: './data',
    description: 'Folder for the embedded profile: the Delta Lake tables live under `lake/`.',
    parse: (raw: string) => path.resolve(raw),
  },
  host: {
    env: 'HOST',
    default: '127.0.0.1',
    description: 'Interface the HTTP/WebSocket server binds (`0.0.0.0` in containers).',
    parse: text,
  },
  port: {
    env: 'PORT',
    default: '4000',
    description: 'Port of GraphQL (HTTP and WebSocket), GraphiQL and `/healthz`.',
    parse: integer(0, 65535),
  },
  environment: {
    env: 'NODE_ENV',
    default: 'production',
    description:
      '`development` shows internal error messages to clients; anything else masks them.',
    parse: text,
  },
  simulatorEnabled: {
    env: 'SIM_ENABLED',
    default: 'true',
    description: 'Run the market simulator as a live source.',
    parse: boolean,
  },
  simulatorSeed: {
    env: 'SIM_SEED',
    default: '42',
    description: 'Seed of the simulator: the same seed gives the same market, tick for tick.',
    parse: integer(0, 2 ** 31 - 1),
  },
  simulatorSymbols: {
    env: 'SIM_SYMBOLS',
    default: 'AAPL,AMZN,GOOGL,MSFT,NVDA,TSLA',
    description: 'Comma-separated symbols the simulator trades.',
    parse: symbolList,
  },
  simulatorCalendar: {
    env: 'SIM_CALENDAR',
    default: '24x7',
    description:
      '`24x7`: trade around the clock, one session per UTC day; `nyse`: NYSE hours and holidays.',
    parse: oneOf('24x7', 'nyse'),
  },
  simulatorTradesPerSecond: {
    env: 'SIM_TRADES_PER_SECOND',
    default: '0.5',
    description: 'Average trades per second per symbol (intraday volume is U-shaped around it).',
    parse: positiveNumber,
  },
  backfillSessions: {
    env: 'SIM_BACKFILL_SESSIONS',
    default: '5',
    description: 'Completed sessions the simulator writes into the lake on first start.',
    parse: integer(0, 60),
  },
  batchIntervalSeconds: {
    env: 'BATCH_INTERVAL_SECONDS',
    default: '15',
    description: 'How often the batch sink moves completed minutes from the stream into the lake.',
    parse: positiveNumber,
  },
  maintenanceIntervalMinutes: {
    env: 'LAKE_MAINTENANCE_INTERVAL_MINUTES',
    default: '60',
    description:
      'How often the lake tables are compacted (OPTIMIZE) and vacuumed (files replaced over 7 days ago); `0` turns it off.',
    parse: integer(0, 60 * 24 * 7),
  },
  speedRetentionMinutes: {
    env: 'SPEED_RETENTION_MINUTES',
    default: '120',
    description:
      'How long the speed store keeps bars and trades before the lake alone serves them.',
    parse: integer(5, 60 * 24 * 7),
  },
  s3Endpoint: {
    env: 'S3_ENDPOINT',
    default: '',
    description:
      'S3-compatible endpoint for `s3://` table locations (empty: AWS). Credentials come from the AWS SDK chain (`AWS_ACCESS_KEY_ID`, ...).',
    parse: optionalText,
  },
  s3Region: {
    env: 'S3_REGION',
    default: 'us-east-1',
    description: 'Region of the S3 bucket.',
    parse: text,
  },
  s3ForcePathStyle: {
    env: 'S3_FORCE_PATH_STYLE',
    default: 'false',
    description:
      'Address buckets by path (`endpoint/bucket/key`), as most S3-compatible servers need.',
    parse: boolean,
  },
} as const satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
export type Config = { readonly [K in keyof Settings]: ReturnType<Settings[K]['parse']> };

/**
 * Builds the frozen config from an environment (process.env by default). Throws
 * BAD_USER_INPUT naming the variable when a value does not parse.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Config {
  const entries = Object.entries(SETTINGS).map(([key, setting]) => {
    const raw = env[setting.env];
    const value = raw === undefined || raw === '' ? setting.default : raw;
    return [key, (setting.parse as (raw: string, env: string) => unknown)(value, setting.env)];
  });
  return Object.freeze(Object.fromEntries(entries)) as Config;
}

/** A config for tests and tools: defaults, overridden by the given values. */
export function configWith(overrides: Partial<Config>, env: Record<string, string> = {}): Config {
  return Object.freeze({ ...loadConfig(env), ...overrides });
}
