import { CronExpressionParser } from 'cron-parser';
import path from 'node:path';
import { AlphalakeError } from '../domain/index.js';

/**
 * Parsers of environment values. Each takes the raw text and the variable's name, and
 * either returns a typed (and, for lists and maps, frozen) value or throws
 * BAD_USER_INPUT naming the variable, the value and what was expected.
 */
export type Parser<T> = (raw: string, env: string) => T;

export function configError(env: string, raw: string, expected: string): AlphalakeError {
  return new AlphalakeError(
    'BAD_USER_INPUT',
    `${env}=${JSON.stringify(raw)} is invalid: expected ${expected}`,
    { env },
  );
}

export const text: Parser<string> = (raw) => raw;
export const optionalText: Parser<string | undefined> = (raw) => (raw === '' ? undefined : raw);

export function integer(min: number, max: number): Parser<number> {
  return (raw, env) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      throw configError(env, raw, `an integer between ${min} and ${max}`);
    }
    return value;
  };
}

export const positiveNumber: Parser<number> = (raw, env) => {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw configError(env, raw, 'a positive number');
  return value;
};

/** A share in [0, 1) (a rate of events among records). */
export const fraction: Parser<number> = (raw, env) => {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value >= 1)
    throw configError(env, raw, 'a number from 0 up to (not including) 1');
  return value;
};

/** A number in [0, max] (an expected count of events, a strength). */
export function nonNegativeNumber(max: number): Parser<number> {
  return (raw, env) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > max)
      throw configError(env, raw, `a number from 0 to ${max}`);
    return value;
  };
}

export const boolean: Parser<boolean> = (raw, env) => {
  const normalized = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off'].includes(normalized)) return false;
  throw configError(env, raw, 'true or false');
};

export function oneOf<T extends string>(...values: T[]): Parser<T> {
  return (raw, env) => {
    if ((values as string[]).includes(raw)) return raw as T;
    throw configError(env, raw, `one of ${values.join(', ')}`);
  };
}

/** Comma-separated, blanks around commas ignored, empty items dropped. */
function items(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export const symbolList: Parser<readonly string[]> = (raw, env) => {
  const symbols = items(raw).map((s) => s.toUpperCase());
  if (symbols.length === 0 || symbols.some((s) => !/^[A-Z][A-Z0-9.]{0,9}$/.test(s))) {
    throw configError(env, raw, 'a comma-separated list of ticker symbols');
  }
  return Object.freeze([...new Set(symbols)]);
};

// A DNS name (RFC 1123 labels), an IPv4 address, or an IPv6 address in brackets (RFC 3986 §3.2.2).
const HOST = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])`;

function endpointList(portRequired: boolean, what: string): Parser<readonly string[]> {
  const pattern = new RegExp(
    `^${HOST}${portRequired ? '' : '(?:'}:(\\d{1,5})${portRequired ? '' : ')?'}$`,
  );
  return (raw, env) => {
    const endpoints = items(raw);
    const valid = endpoints.every((endpoint) => {
      const match = pattern.exec(endpoint);
      if (!match) return false;
      const port = match[1] === undefined ? undefined : Number(match[1]);
      return port === undefined || (port >= 1 && port <= 65535);
    });
    if (endpoints.length === 0 || !valid) throw configError(env, raw, what);
    return Object.freeze([...new Set(endpoints)]);
  };
}

/** Kafka bootstrap servers: `host:port`, as kafkajs's `brokers` takes them. */
export const brokerList = endpointList(
  true,
  'a comma-separated list of Kafka brokers as host:port (empty: the in-process bus)',
);

/** Cassandra contact points: `host` or `host:port` (cassandra-driver's `contactPoints`). */
export const contactPointList = endpointList(
  false,
  'a comma-separated list of Cassandra contact points as host or host:port (empty: the in-process speed store)',
);

export function optional<T>(parse: Parser<T>): Parser<T | undefined> {
  return (raw, env) => (raw === '' ? undefined : parse(raw, env));
}

/**
 * Kafka's legal topic characters are ASCII letters, digits, `.`, `_` and `-`, at most 249 of
 * them (Kafka's `Topic.validate`); the prefix leaves room for the longest topic name after it.
 */
export function topicPrefix(longestSuffix: number): Parser<string> {
  return (raw, env) => {
    if (!/^[A-Za-z0-9._-]*$/.test(raw) || raw.length + longestSuffix > 249) {
      throw configError(
        env,
        raw,
        `letters, digits, '.', '_' or '-', at most ${249 - longestSuffix} of them`,
      );
    }
    return raw;
  };
}

/** A Kafka client id: shown in broker logs and quotas, so kept to plain characters. */
export const clientId: Parser<string> = (raw, env) => {
  if (!/^[A-Za-z0-9._-]{1,255}$/.test(raw)) {
    throw configError(env, raw, "letters, digits, '.', '_' or '-'");
  }
  return raw;
};

/**
 * A CQL keyspace name: unquoted identifiers are letters, digits and `_`, start with a letter,
 * and fold to lower case; keyspace names are limited to 48 characters (CQL "Data
 * definition": CREATE KEYSPACE).
 */
export const keyspaceName: Parser<string> = (raw, env) => {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(raw)) {
    throw configError(env, raw, "a keyspace name: a letter, then letters, digits or '_' (≤ 48)");
  }
  return raw.toLowerCase();
};

export const dataCenterName: Parser<string> = (raw, env) => {
  if (!/^[A-Za-z0-9._-]+$/.test(raw)) {
    throw configError(env, raw, "a data centre name: letters, digits, '.', '_' or '-'");
  }
  return raw;
};

/**
 * The replication map of `CREATE KEYSPACE … WITH replication = {…}` (CQL "Data definition"),
 * written compactly: `SimpleStrategy:3` or `NetworkTopologyStrategy:dc1=3,dc2=2`.
 */
export type CassandraReplication = Readonly<Record<string, string | number>>;

export const cassandraReplication: Parser<CassandraReplication> = (raw, env) => {
  const expected =
    'SimpleStrategy:<factor> or NetworkTopologyStrategy:<dc>=<factor>[,<dc>=<factor>…] with factors 1 to 100';
  const [strategy, spec = '', ...rest] = raw.split(':');
  const factor = (value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !/^\d+$/.test(value.trim()) || n < 1 || n > 100) {
      throw configError(env, raw, expected);
    }
    return n;
  };
  if (rest.length > 0) throw configError(env, raw, expected);
  if (strategy === 'SimpleStrategy') {
    return Object.freeze({ class: 'SimpleStrategy', replication_factor: factor(spec) });
  }
  if (strategy === 'NetworkTopologyStrategy') {
    const dataCenters = items(spec).map((pair) => {
      const [dc = '', count, ...extra] = pair.split('=').map((s) => s.trim());
      if (extra.length > 0 || !/^[A-Za-z0-9._-]+$/.test(dc)) throw configError(env, raw, expected);
      return [dc, factor(count)] as const;
    });
    const names = dataCenters.map(([dc]) => dc);
    if (dataCenters.length === 0 || new Set(names).size !== names.length) {
      throw configError(env, raw, expected);
    }
    return Object.freeze({ class: 'NetworkTopologyStrategy', ...Object.fromEntries(dataCenters) });
  }
  throw configError(env, raw, expected);
};

const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** A size in bytes: a whole number, or a number with a unit (`512MiB`, `10GiB`, `2GB`). */
export function byteSize(min: number): Parser<number> {
  return (raw, env) => {
    const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(raw.trim());
    const unit = BYTE_UNITS[(match?.[2] ?? '').toLowerCase() || 'b'];
    const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
    if (!Number.isSafeInteger(bytes) || bytes < min) {
      throw configError(
        env,
        raw,
        `a size of at least ${min} bytes: a number of bytes or a number with B, KB, MB, GB, TB, KiB, MiB, GiB or TiB`,
      );
    }
    return bytes;
  };
}

/** Where the lake's tables live: a local folder or an S3 bucket and key prefix. */
export type LakeLocation =
  | { readonly backend: 'local'; readonly root: string }
  | { readonly backend: 's3'; readonly bucket: string; readonly prefix: string };

/**
 * `s3://bucket/prefix` (also `s3a://`, as Spark writes it), `file:///absolute/path`, or a
 * plain path. Bucket names follow the S3 naming rules: 3–63 lower-case letters, digits,
 * dots and hyphens, starting and ending with a letter or digit.
 */
export const lakeLocation: Parser<LakeLocation> = (raw, env) => {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw)?.[1]?.toLowerCase();
  if (scheme === 's3' || scheme === 's3a') {
    const match = /^[^:]+:\/\/([^/]*)\/*(.*)$/.exec(raw);
    const bucket = match?.[1] ?? '';
    const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
      throw configError(env, raw, 's3://bucket/prefix with a valid S3 bucket name');
    }
    if (prefix !== '' && prefix.split('/').some((part) => ['', '.', '..'].includes(part))) {
      throw configError(env, raw, 's3://bucket/prefix without empty, . or .. path segments');
    }
    return Object.freeze({ backend: 's3', bucket, prefix });
  }
  if (scheme === 'file') {
    const file = raw.slice('file://'.length);
    if (!file.startsWith('/')) throw configError(env, raw, 'file:///absolute/path');
    return Object.freeze({ backend: 'local', root: path.resolve(decodeURIComponent(file)) });
  }
  if (scheme !== undefined) {
    throw configError(env, raw, 's3://bucket/prefix, file:///path or a folder');
  }
  return Object.freeze({ backend: 'local', root: path.resolve(raw) });
};

/**
 * A MongoDB connection string (`mongodb://` or `mongodb+srv://`, MongoDB manual "Connection
 * String Formats"). Several hosts (`mongodb://a:27017,b:27017/db`) are not a WHATWG URL, so
 * only the shape is checked here; the driver reports the details.
 */
export const mongoUri: Parser<string> = (raw, env) => {
  if (!/^mongodb(\+srv)?:\/\/[^/?#\s]+(\/[^?#\s]*)?(\?\S*)?$/.test(raw)) {
    const shown = redactCredentials(raw);
    throw configError(env, shown, 'a connection string mongodb://host[:port][,…]/database');
  }
  return raw;
};

/**
 * A cron expression (five fields, or six with seconds first), checked by cron-parser, the
 * parser Agenda schedules with; empty: no schedule.
 */
export const cronSchedule: Parser<string | undefined> = (raw, env) => {
  const expression = raw.trim();
  if (expression === '') return undefined;
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' });
  } catch (error) {
    throw configError(
      env,
      raw,
      `a cron expression such as "0 3 * * *" (${(error as Error).message}), or empty for none`,
    );
  }
  return expression;
};

/** A connection string with its password (and user) replaced, for logs and /readyz. */
export function redactCredentials(uri: string): string {
  return uri.replace(/^([a-z0-9+.-]+:\/\/)[^@/?#]*@/i, '$1***@');
}

/** An absolute URL of one of the given schemes (`https:`, `wss:`, …), without a trailing slash. */
export function url(...schemes: string[]): Parser<string> {
  return (raw, env) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw configError(env, raw, `an absolute ${schemes.join(' or ')} URL`);
    }
    if (!schemes.includes(parsed.protocol.replace(/:$/, ''))) {
      throw configError(env, raw, `an absolute ${schemes.join(' or ')} URL`);
    }
    return raw.replace(/\/+$/, '');
  };
}
/**
 * An HS256 secret: at least 32 bytes, the size of the hash's output, as RFC 7518 §3.2
 * requires of an HMAC key (a shorter one can be brute-forced from any token).
 */
export const jwtSecret: Parser<string> = (raw, env) => {
  if (Buffer.byteLength(raw, 'utf8') < 32) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `${env} is too short: an HS256 secret needs at least 32 bytes (RFC 7518 §3.2); generate one with \`openssl rand -base64 48\``,
      { env },
    );
  }
  return raw;
};

/** A JWT claim name: a JSON object key, printable and short. */
export const claimName: Parser<string> = (raw, env) => {
  if (!/^[\x21-\x7e]{1,100}$/.test(raw)) throw configError(env, raw, 'a claim name');
  return raw;
};

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** A duration such as `90s`, `15m`, `1h` or `7d`, in whole seconds (1 s to 366 days). */
export const durationSeconds: Parser<number> = (raw, env) => {
  const match = /^(\d+)([smhd])$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? 0) : 0;
  if (!match || seconds < 1 || seconds > 366 * 86_400) {
    throw configError(env, raw, 'a duration such as 90s, 15m, 1h or 7d (at most 366d)');
  }
  return seconds;
};
