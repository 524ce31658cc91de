import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logging/index.js';

/** A logger whose lines are kept in memory, as written (the test reads the raw text). */
export function capturedLogger(): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    logger: createLogger({ level: 'info', destination }),
    text: () => chunks.join(''),
  };
}
