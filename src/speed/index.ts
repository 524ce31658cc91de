/** Public surface of src/speed: the speed store port and adapters, the live hub, the layer. */
export type { SpeedStore, SpeedStoreCapabilities, TimeRange } from './speed-store.js';
export { MemorySpeedStore } from './memory-speed-store.js';
export { LiveHub, type LiveChannels } from './live-hub.js';
export { SpeedLayer } from './speed-layer.js';
