/** Public surface of src/metrics: the registry behind `/metrics`. */
export { Counter, Gauge, MetricsRegistry, type Labels } from './registry.js';
