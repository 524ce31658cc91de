/** Public surface of src/metrics: the prom-client registry behind `/metrics`. */
export {
  MetricsRegistry,
  type Counter,
  type Gauge,
  type Histogram,
  type Labels,
  type MetricsRegistryOptions,
} from './registry.js';
