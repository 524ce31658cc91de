import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';

/**
 * Structured logs: one JSON object per line (pino), on stdout unless a destination is
 * given. Every line written while a request is being served carries that request's id
 * (`requestId`), taken from an AsyncLocalStorage that the HTTP server enters per request,
 * so a service deep below a resolver logs with the id without being handed a logger.
 * Secrets never reach a line: pino's `redact` replaces the values at the paths below
 * (headers that carry credentials, and any `token`, `apiKey`, `password` or `secret`
 * field up to two levels down) with `[Redacted]`.
 */
export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = Level | 'silent';

const SECRET_KEYS = [
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'authorization',
  'cookie',
];

/** The paths redacted from every line (pino's redact syntax, fast-redact paths). */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
];

export interface LoggerOptions {
  /** @default 'info' */
  readonly level?: LogLevel;
  /** Where lines go. @default stdout */
  readonly destination?: DestinationStream;
}

/** What a request carries into every line logged while it is served. */
export interface RequestScope {
  readonly requestId: string;
}

const requestScope = new AsyncLocalStorage<RequestScope>();

export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: 'alphalake' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACTED_PATHS], censor: '[Redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: () => requestScope.getStore() ?? {},
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** Runs `work` with `scope` attached to every line it (and what it awaits) logs. */
export function withRequestScope<T>(scope: RequestScope, work: () => T): T {
  return requestScope.run(scope, work);
}

/** The scope of the request being served, if any. */
export function currentRequestScope(): RequestScope | undefined {
  return requestScope.getStore();
}

/**
 * A client's `x-request-id` when it is a sensible token (at most 128 characters of
 * letters, digits and `-_.:/`), so a proxy's id follows the request through; otherwise a
 * new UUID. Anything else a client sends is not copied into logs or headers.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && /^[\w.:/-]{1,128}$/.test(given) ? given : randomUUID();
}

let current: Logger = createLogger();

/**
 * The process's logger, for modules that log from timers and consumers (the lake sink,
 * the stream buses). src/app.ts sets it from config at start-up.
 */
export function processLogger(): Logger {
  return current;
}

export function setProcessLogger(logger: Logger): void {
  current = logger;
}
