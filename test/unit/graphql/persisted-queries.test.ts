import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configWith } from '../../../src/config/index.js';
import { isAlphalakeError } from '../../../src/domain/index.js';
import { loadPersistedQueryManifest, sha256Hex } from '../../../src/graphql/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'alphalake-pq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function manifest(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('persisted query manifest', () => {
  const body = 'query Watermark { lakeStatus { watermark } }';

  it('reads an Apollo manifest into hash → query', () => {
    const file = manifest('good.json', {
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: sha256Hex(body), name: 'Watermark', type: 'query', body }],
    });
    expect([...loadPersistedQueryManifest(file)]).toEqual([[sha256Hex(body), body]]);
  });

  it.each([
    ['not JSON', '{ nope'],
    ['no operations', { format: 'apollo-persisted-query-manifest', version: 1 }],
    ['an id that is not the body’s hash', { operations: [{ id: sha256Hex('{ x }'), body }] }],
    ['an operation without a body', { operations: [{ id: sha256Hex(body) }] }],
  ])('refuses a file with %s, naming it', (_case, content) => {
    const file = manifest(`bad-${Math.random()}.json`, content);
    let error: unknown;
    try {
      loadPersistedQueryManifest(file);
    } catch (caught) {
      error = caught;
    }
    expect(isAlphalakeError(error, 'BAD_USER_INPUT')).toBe(true);
    expect((error as Error).message).toContain(file);
  });

  it('is required by PERSISTED_QUERIES=allowlist', () => {
    expect(() => configWith({}, { PERSISTED_QUERIES: 'allowlist' })).toThrow(
      /PERSISTED_QUERIES_FILE/,
    );
    expect(
      configWith({}, { PERSISTED_QUERIES: 'allowlist', PERSISTED_QUERIES_FILE: 'm.json' })
        .persistedQueriesFile,
    ).toBe('m.json');
  });
});
