/** `npm run bench`: every benchmark, one after another; figures are printed, never asserted. */
import { run as lakeAppend } from './lake-append.js';
import { run as lakeQuery } from './lake-query.js';

const benches: [string, () => Promise<void>][] = [
  ['lake-append', lakeAppend],
  ['lake-query', lakeQuery],
];

for (const [name, bench] of benches) {
  console.log(`\n== ${name}`);
  await bench();
}
