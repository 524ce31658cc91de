import { AlphalakeError } from '../../domain/index.js';
import type { MetadataAction, ProtocolAction } from './actions.js';
import { columnMappingMode } from './schema.js';

/**
 * Which table features alphalake implements (PROTOCOL.md "Table Features",
 * "Valid Feature Names in Table Features"). A reader must refuse a table that needs a
 * reader feature it does not implement; a writer must refuse one with an unknown writer
 * feature. Refusing is always safe; reading a deletion-vector table as if it had none
 * would return rows that were deleted.
 */
export const SUPPORTED_READER_FEATURES: ReadonlySet<string> = new Set([
  'columnMapping',
  // Accepted as a feature; a snapshot with any file that has a deletion vector is refused.
  'deletionVectors',
  'timestampNtz',
  'vacuumProtocolCheck',
]);

/** Writer features we either implement or that cannot be violated by our writes. */
export const SUPPORTED_WRITER_FEATURES: ReadonlySet<string> = new Set([
  'appendOnly',
  'invariants',
  'columnMapping',
  'timestampNtz',
  'vacuumProtocolCheck',
  'domainMetadata',
]);

/**
 * The protocol alphalake writes for a new table: legacy versions unless a feature needs
 * more (column mapping alone is reader 2 / writer 5, PROTOCOL.md "Column Mapping").
 */
export function protocolForNewTable(
  needsTimestampNtz: boolean,
  columnMapping = false,
): ProtocolAction {
  if (needsTimestampNtz) {
    const features = columnMapping ? ['timestampNtz', 'columnMapping'] : ['timestampNtz'];
    return {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: features,
      writerFeatures: features,
    };
  }
  if (columnMapping) return { minReaderVersion: 2, minWriterVersion: 5 };
  return { minReaderVersion: 1, minWriterVersion: 2 };
}

function refuse(feature: string, tablePath: string, what: 'read' | 'write'): never {
  throw new AlphalakeError(
    'UNSUPPORTED_TABLE_FEATURE',
    `table ${tablePath} uses the Delta feature "${feature}", which alphalake cannot ${what}`,
    { feature, tablePath },
  );
}

export function checkReadable(
  protocol: ProtocolAction,
  metadata: MetadataAction,
  tablePath: string,
): void {
  if (protocol.minReaderVersion > 3)
    refuse(`readerVersion${protocol.minReaderVersion}`, tablePath, 'read');
  if (protocol.minReaderVersion === 3) {
    for (const feature of protocol.readerFeatures ?? []) {
      if (!SUPPORTED_READER_FEATURES.has(feature)) refuse(feature, tablePath, 'read');
    }
  }
  if (columnMappingMode(metadata.configuration) === 'id')
    refuse('columnMapping (id mode)', tablePath, 'read');
  // Legacy (reader version 2) deletion vectors cannot exist; feature-less tables can still
  // carry properties that change what a file means: refuse those too.
  if (
    metadata.configuration['delta.enableDeletionVectors'] === 'true' &&
    protocol.minReaderVersion < 3
  ) {
    refuse('deletionVectors', tablePath, 'read');
  }
}

export function checkWritable(
  protocol: ProtocolAction,
  metadata: MetadataAction,
  tablePath: string,
): void {
  checkReadable(protocol, metadata, tablePath);
  if (protocol.minWriterVersion > 7)
    refuse(`writerVersion${protocol.minWriterVersion}`, tablePath, 'write');
  if (protocol.minWriterVersion === 7) {
    for (const feature of protocol.writerFeatures ?? []) {
      if (!SUPPORTED_WRITER_FEATURES.has(feature)) refuse(feature, tablePath, 'write');
    }
  } else {
    // Legacy writer versions imply features: 3 check constraints, 4 change data feed and
    // generated columns, 5 column mapping, 6 identity columns.
    if (protocol.minWriterVersion >= 3 && hasConstraints(metadata))
      refuse('checkConstraints', tablePath, 'write');
    if (protocol.minWriterVersion >= 4) {
      if (metadata.configuration['delta.enableChangeDataFeed'] === 'true')
        refuse('changeDataFeed', tablePath, 'write');
      if (metadata.schemaString.includes('delta.generationExpression'))
        refuse('generatedColumns', tablePath, 'write');
    }
    if (protocol.minWriterVersion >= 6 && metadata.schemaString.includes('delta.identity')) {
      refuse('identityColumns', tablePath, 'write');
    }
  }
  if (metadata.schemaString.includes('delta.invariants')) refuse('invariants', tablePath, 'write');
}

function hasConstraints(metadata: MetadataAction): boolean {
  return Object.keys(metadata.configuration).some((key) => key.startsWith('delta.constraints.'));
}

export function isAppendOnly(metadata: MetadataAction): boolean {
  return metadata.configuration['delta.appendOnly'] === 'true';
}
