import { describeBusContract, memoryBackend, type BusBackend } from '../../contracts/bus.js';

// The embedded backends of the bus contract; Kafka runs it in test/services/kafka-bus.test.ts.
const BACKENDS: BusBackend[] = [memoryBackend()];

for (const backend of BACKENDS) describeBusContract(backend);
