import { beforeAll } from 'vitest';
import { describeBusContract, kafkaBackend, type BusBackend } from '../contracts/bus.js';
import { endpoints, requireService } from './endpoints.js';

// The bus contract on the real Kafka; the in-process bus runs it in test/unit/stream/bus.test.ts.
const BACKENDS: BusBackend[] = [kafkaBackend(() => endpoints.kafkaBrokers)];

beforeAll(() => requireService('kafka'));

for (const backend of BACKENDS) describeBusContract(backend);
