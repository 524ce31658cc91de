/**
 * `npm run bench [-- name ...]`: every benchmark (or those named), one after another;
 * figures are printed, never asserted.
 */
import { run as apiLimits } from './api-limits.js';
import { run as busKafka } from './bus-kafka.js';
import { run as busRecovery } from './bus-recovery.js';
import { run as lakeAppend } from './lake-append.js';
import { run as lakeQuery } from './lake-query.js';
import { run as speedStore } from './speed-store.js';
import { run as readPath } from './read-path.js';
import { run as subscriptionLatency } from './subscription-latency.js';
import { run as replay } from './replay.js';
import { run as sinkKafka } from './sink-kafka.js';
import { run as marketApi } from './market-api.js';
import { run as tradesPaging } from './trades-paging.js';
import { run as subscribers } from './subscribers.js';

const benches: [string, () => Promise<void>][] = [
  ['lake-append', lakeAppend],
  ['lake-query', lakeQuery],
  ['speed-store', speedStore],
  ['bus-kafka', busKafka],
  ['bus-recovery', busRecovery],
  ['read-path', readPath],
  ['subscription-latency', subscriptionLatency],
  ['api-limits', apiLimits],
  ['replay', replay],
  ['sink-kafka', sinkKafka],
  ['market-api', marketApi],
  ['trades-paging', tradesPaging],
  ['subscribers', subscribers],
];

const wanted = process.argv.slice(2);
for (const [name, bench] of benches.filter(
  ([name]) => wanted.length === 0 || wanted.includes(name),
)) {
  console.log(`\n== ${name}`);
  await bench();
}
