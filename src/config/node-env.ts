import { SETTINGS } from './config.js';

/**
 * Libraries read NODE_ENV themselves: graphql-js checks every `instanceof` a second way
 * unless it is `production` (several percent of a large query's time), Express shows
 * stack traces unless it is. alphalake's own default is `production` (SETTINGS), so when
 * the variable is unset the process takes that default too, before those libraries load:
 * the CLI imports this module first.
 */
if ((process.env[SETTINGS.environment.env] ?? '') === '') {
  process.env[SETTINGS.environment.env] = SETTINGS.environment.default;
}
