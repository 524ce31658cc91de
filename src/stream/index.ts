/** Public surface of src/stream: the bus port, its adapters and the record codecs. */
export type {
  BatchHandler,
  BusCapabilities,
  BusHealth,
  BusRecord,
  Offset,
  OutgoingRecord,
  PublishOptions,
  StartOffsets,
  StreamBus,
  SubscribeOptions,
  Topic,
} from './bus.js';
export { nextOffset, TOPICS } from './bus.js';
export { MemoryBus } from './memory-bus.js';
export { KafkaBus, KAFKA_BUS_DEFAULTS, kafkaGroupId, type KafkaBusOptions } from './kafka-bus.js';
export {
  codecFor,
  decodeMessage,
  JSON_BIGINT_FORMAT,
  JSON_FORMAT,
  type Encoding,
  type RecordCodec,
} from './codec.js';
export { COLUMNAR_FORMAT } from './codec-columnar.js';
