import { MemorySpeedStore } from '../../../src/speed/index.js';
import { speedStoreContract, type SpeedStoreBackend } from '../../contracts/speed-store.js';

/** The embedded backends; Cassandra runs the same suite in the services tier. */
const BACKENDS: readonly SpeedStoreBackend[] = [
  { name: 'memory', open: async () => new MemorySpeedStore() },
];

speedStoreContract(BACKENDS);
