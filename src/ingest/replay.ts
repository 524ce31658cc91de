import type { ValidationContext } from '../domain/index.js';
import type { Ingestor } from './ingestor.js';
import type { Source } from './source.js';
import { IngestTally } from './tally.js';

/**
 * Runs a source through the ingest path onto the bus until it ends or the signal aborts:
 * each batch validated (rejects to the rejects topic, duplicates dropped and counted) and
 * published. `afterBatch` runs between batches (the embedded CLI flushes the lake there,
 * so memory stays bounded). Returns the tally of what was read, accepted and rejected.
 */
export async function ingestSource(options: {
  source: Source;
  ingestor: Ingestor;
  signal: AbortSignal;
  range?: ValidationContext['range'];
  afterBatch?: (tally: IngestTally) => Promise<void>;
}): Promise<IngestTally> {
  const { source, ingestor, signal } = options;
  const tally = new IngestTally();
  for await (const batch of source.records(signal)) {
    const checked = await ingestor.ingestRecords(batch, source.name, {
      signal,
      ...(options.range ? { range: options.range } : {}),
    });
    tally.rowsRead += batch.length;
    tally.add(checked);
    await options.afterBatch?.(tally);
  }
  return tally;
}
