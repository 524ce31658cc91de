import autocannon, { type Options, type Result } from 'autocannon';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * autocannon on a thread of its own (bench/market-api.ts): the load generator's parsing
 * of responses does not share the measured server's event loop, as a second process
 * would not. Runs the options it is given once and posts the result.
 */
const options = workerData as Options;
// Off the main thread the histograms come back encoded; decoded here.
const result: Result = autocannon.aggregateResult([await autocannon(options)], options);
// autocannon posts messages of its own when it runs off the main thread: ours is tagged.
parentPort?.postMessage({ alphalakeResult: result });
