/** Public surface of src/logging: structured JSON logs with request ids and redaction. */
export {
  createLogger,
  currentRequestScope,
  processLogger,
  LOG_LEVELS,
  REDACTED_PATHS,
  requestIdOf,
  setProcessLogger,
  withRequestScope,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type RequestScope,
} from './logger.js';
