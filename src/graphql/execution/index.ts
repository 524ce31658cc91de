/** How an admitted operation runs: compiled executors, the response cache, persisted queries. */
export * from './jit-executor.js';
export * from './persisted-queries.js';
export * from './response-cache.js';
export * from './loaders.js';
export * from './shared-subscriptions.js';
