import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configWith } from '../../../src/config/index.js';
import { isAlphalakeError } from '../../../src/domain/index.js';
import {
  loadPersistedQueryManifest,
  PersistedQueries,
  sha256Hex,
} from '../../../src/graphql/index.js';

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

describe('the document a request runs (PersistedQueries.documentOf)', () => {
  const listed = 'query Watermark { lakeStatus { watermark } }';
  const other = '{ symbols { symbol } }';
  const pq = (sha256Hash: unknown, version: unknown = 1) => ({
    persistedQuery: { version, sha256Hash },
  });

  it('auto: the text sent, or the one Apollo registered under a hash-only request', async () => {
    const auto = new PersistedQueries({ mode: 'auto' });
    expect(auto.documentOf({ query: other })).toBe(other);
    expect(auto.documentOf({ extensions: pq(sha256Hex(other)) })).toBeUndefined();
    // Apollo registers through the option's cache, under its `apq:` prefix.
    const option = auto.apolloOption();
    if (!option) throw new Error('auto mode has an Apollo option');
    await option.cache?.set(`apq:${sha256Hex(other)}`, other);
    expect(auto.documentOf({ extensions: pq(sha256Hex(other)) })).toBe(other);
    expect(await option.cache?.get(`apq:${sha256Hex(other)}`)).toBe(other);
    // A text with its own hash runs; with another's, Apollo refuses it: not ours to answer.
    expect(auto.documentOf({ query: other, extensions: pq(sha256Hex(other)) })).toBe(other);
    expect(auto.documentOf({ query: other, extensions: pq(sha256Hex(listed)) })).toBeUndefined();
    expect(auto.documentOf({ extensions: pq(sha256Hex(other), 2) })).toBeUndefined();
    // Apollo reads a falsy persistedQuery as none.
    expect(auto.documentOf({ query: other, extensions: { persistedQuery: null } })).toBe(other);
    for (const body of [undefined, null, 'text', {}, { query: '' }, { query: 42 }]) {
      expect(auto.documentOf(body)).toBeUndefined();
    }
  });

  it('allowlist: only a listed text, sent or named by its hash', () => {
    const allow = new PersistedQueries({
      mode: 'allowlist',
      allowList: new Map([[sha256Hex(listed), listed]]),
    });
    expect(allow.documentOf({ query: listed })).toBe(listed);
    expect(allow.documentOf({ extensions: pq(sha256Hex(listed)) })).toBe(listed);
    expect(allow.documentOf({ query: listed, extensions: pq(sha256Hex(listed)) })).toBe(listed);
    expect(allow.documentOf({ query: other })).toBeUndefined();
    expect(allow.documentOf({ extensions: pq(sha256Hex(other)) })).toBeUndefined();
    expect(allow.documentOf({ query: other, extensions: pq(sha256Hex(other)) })).toBeUndefined();
  });

  it('off: a text runs, a hash is refused by Apollo', () => {
    const off = new PersistedQueries({ mode: 'off' });
    expect(off.apolloOption()).toBe(false);
    expect(off.documentOf({ query: other })).toBe(other);
    expect(off.documentOf({ query: other, extensions: pq(sha256Hex(other)) })).toBeUndefined();
  });
});
