/** The resolvers, one per domain area: market data, vendor bars, lake, master data, jobs, users, rejects. */
export * from './job-resolver.js';
export * from './lake-resolver.js';
export * from './market-resolver.js';
export * from './mdm-resolver.js';
export * from './quote-resolver.js';
export * from './rejects-resolver.js';
export * from './user-resolver.js';
export * from './vendor-bars-resolver.js';
