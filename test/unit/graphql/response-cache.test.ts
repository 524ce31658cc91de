import { describe, expect, it } from 'vitest';
import { ResponseCache, rootFieldCount } from '../../../src/graphql/index.js';

describe('ResponseCache', () => {
  it('holds its bound in bytes, dropping the least recently used responses', () => {
    const cache = new ResponseCache(64 * 1024);
    const body = Buffer.alloc(10_000, 'x');
    for (let i = 0; i < 50; i++) {
      cache.set(`key-${i}`, { status: 200, headers: [['content-type', 'application/json']], body });
      expect(cache.stats().bytes).toBeLessThanOrEqual(64 * 1024);
    }
    expect(cache.stats().entries).toBeGreaterThan(0);
    expect(cache.stats().entries).toBeLessThan(10);
    expect(cache.get('key-49')?.body).toBe(body);
    expect(cache.get('key-0')).toBeUndefined();
  });

  it('does not keep a response larger than its bound', () => {
    const cache = new ResponseCache(1024);
    cache.set('big', { status: 200, headers: [], body: Buffer.alloc(4096) });
    expect(cache.get('big')).toBeUndefined();
    expect(cache.stats().bytes).toBe(0);
  });
});

describe('rootFieldCount', () => {
  it.each([
    ['{ a b c }', undefined, 3],
    ['query Q { x: a x2: a }', 'Q', 2],
    ['query A { a } query B { a b }', 'B', 2],
    ['query A { a } query B { a b }', undefined, undefined],
    ['{ ...F } fragment F on Query { a }', undefined, undefined],
    ['{ ... on Query { a } }', undefined, undefined],
    ['query($s: Boolean!) { a @skip(if: $s) }', undefined, undefined],
    ['mutation { a }', undefined, undefined],
    ['subscription { a }', undefined, undefined],
    ['{ a', undefined, undefined],
  ])('%s (operation %s) has %s plain root fields', (query, operationName, expected) => {
    expect(rootFieldCount({ query, operationName })).toBe(expected);
  });
});
