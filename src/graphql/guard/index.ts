/** What refuses an operation before it runs: roles, depth/cost/alias limits, the rate limit. */
export * from './authorize.js';
export * from './limits.js';
export * from './rate-limit.js';
