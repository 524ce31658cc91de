/** Public surface of src/stream: the bus port and its adapters. */
export type {
  BatchHandler,
  BusCapabilities,
  BusRecord,
  OutgoingRecord,
  StreamBus,
  SubscribeOptions,
  Topic,
} from './bus.js';
export { MemoryBus } from './memory-bus.js';
