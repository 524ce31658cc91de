/** Public surface of src/domain: pure types and rules, no I/O. */
export * from './time.js';
export * from './market.js';
export * from './bars.js';
export * from './validation.js';
export * from './calendar.js';
export * from './clock.js';
export * from './errors.js';
export * from './deadline.js';
export * from './trade-conditions.js';
export * from './polygon-conditions.js';
