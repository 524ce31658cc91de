import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { withDuckDB } from '../../../src/lake/index.js';

/** A statement that runs for many seconds on any machine: 20 billion rows counted. */
const LONG = 'SELECT count(*) AS n FROM range(20000000000)';

describe('withDuckDB and an AbortSignal', () => {
  it('interrupts a statement that starts after the abort (an interrupt DuckDB would clear)', async () => {
    // DuckDB clears a pending interrupt when a statement begins: an abort that lands
    // before `run` reaches the worker thread must still stop the statement.
    const controller = new AbortController();
    const reason = new Error('stopped before the statement began');
    const outcome = withDuckDB(async (connection) => {
      controller.abort(reason);
      await sleep(20); // the first interrupt hits an idle connection
      const result = await connection.run(LONG);
      return result.getRows();
    }, controller.signal);
    await expect(outcome).rejects.toBe(reason);
    // The pool's connection still answers exactly.
    const rows = await withDuckDB(async (connection) =>
      (await connection.run('SELECT 42::INTEGER AS x')).getRows(),
    );
    expect(rows).toEqual([[42]]);
  });

  it('refuses a result that arrives after the abort', async () => {
    const controller = new AbortController();
    const reason = new Error('too late');
    const outcome = withDuckDB(async (connection) => {
      const rows = (await connection.run('SELECT 1::INTEGER AS x')).getRows();
      controller.abort(reason);
      return rows;
    }, controller.signal);
    await expect(outcome).rejects.toBe(reason);
  });
});
