import { startLoopbackApi } from '../support/api.js';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import {
  DeltaTable,
  lakeValueToJson,
  localObjectStore,
  type ColumnSpec,
} from '../../src/lake/index.js';
import { tempDir } from '../unit/lake/helpers.js';
import { canonicalRows, oracle, oracleRows, REPO_ROOT, type OracleRead } from './harness.js';

/**
 * Microsecond fidelity end to end (issue 8): a table delta-rs writes with microsecond
 * timestamps (UTC and wall-clock), int64 values beyond 2^53 and decimal(38,18) values
 * reads back with every digit through the lake API, `alphalake lake read --format
 * jsonl|csv` and GraphQL `lakeRows`; the same rows written by alphalake read back
 * identically in delta-rs. The expected text is the input itself, written out by hand.
 */
const SCHEMA: ColumnSpec[] = [
  { name: 'id', type: 'long', nullable: false },
  { name: 'ts', type: 'timestamp', nullable: true },
  { name: 'wall', type: 'timestamp_ntz', nullable: true },
  { name: 'big', type: 'long', nullable: true },
  { name: 'amount', type: 'decimal(38,18)', nullable: true },
];

/** Each row as given (epoch µs; int64 and decimals as exact digits) and as JSON must print it. */
const CASES = [
  {
    input: {
      id: 1,
      ts: 253_402_300_799_999_999n,
      wall: 253_402_300_799_999_999n,
      big: 2n ** 63n - 1n,
      amount: '99999999999999999999.999999999999999999',
    },
    json: {
      id: 1,
      ts: '9999-12-31T23:59:59.999999Z',
      wall: '9999-12-31T23:59:59.999999',
      big: '9223372036854775807',
      amount: '99999999999999999999.999999999999999999',
    },
  },
  {
    input: { id: 2, ts: -1n, wall: -1n, big: -(2n ** 63n), amount: '-0.000000000000000001' },
    json: {
      id: 2,
      ts: '1969-12-31T23:59:59.999999Z',
      wall: '1969-12-31T23:59:59.999999',
      big: '-9223372036854775808',
      amount: '-0.000000000000000001',
    },
  },
  {
    input: {
      id: 3,
      ts: 1_709_285_409_292_971n,
      wall: 1_709_285_409_292_971n,
      big: 2n ** 53n + 1n,
      amount: '12345678901234567890.123456789012345678',
    },
    json: {
      id: 3,
      ts: '2024-03-01T09:30:09.292971Z',
      wall: '2024-03-01T09:30:09.292971',
      big: '9007199254740993',
      amount: '12345678901234567890.123456789012345678',
    },
  },
  {
    input: { id: 4, ts: -2_208_988_799_999_999n, wall: null, big: 2 ** 53 - 1, amount: null },
    json: {
      id: 4,
      ts: '1900-01-01T00:00:00.000001Z',
      wall: null,
      big: 9007199254740991,
      amount: null,
    },
  },
  {
    input: {
      id: 5,
      ts: 1_709_285_409_292_000n,
      wall: 0n,
      big: -(2 ** 53 - 1),
      amount: '0.000000000000000000',
    },
    json: {
      id: 5,
      ts: '2024-03-01T09:30:09.292Z',
      wall: '1970-01-01T00:00:00.000',
      big: -9007199254740991,
      amount: '0.000000000000000000',
    },
  },
];
const EXPECTED = CASES.map((c) => c.json);
const byId = (rows: readonly Record<string, unknown>[]) =>
  [...rows].sort((a, b) => Number(a['id']) - Number(b['id']));

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');

describe('microsecond fidelity: delta-rs ⇄ alphalake lake, CLI and GraphQL', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  let theirsDir: string;
  let theirs: OracleRead;

  beforeAll(async () => {
    ({ dir: home, cleanup } = await tempDir('alphalake-micros-'));
    theirsDir = path.join(home, 'lake', 'interop', 'delta-rs');
    await mkdir(path.dirname(theirsDir), { recursive: true });
    const [written, read] = await oracle([
      {
        op: 'write',
        path: theirsDir,
        mode: 'append',
        schema: SCHEMA.map((c) => ({ name: c.name, type: c.type })),
        rows: CASES.map((c) => c.input),
      },
      { op: 'read', path: theirsDir },
    ]);
    expect(written?.error).toBeUndefined();
    expect(read?.error).toBeUndefined();
    theirs = read!;
  });

  afterAll(() => cleanup?.());

  it('the lake reads every digit delta-rs wrote, and delta-rs agrees at full precision', async () => {
    const table = await DeltaTable.open(localObjectStore(path.dirname(theirsDir)), 'delta-rs');
    const { rows } = await table.query();
    const snapshot = await table.snapshot();
    expect(canonicalRows(rows, snapshot.schema)).toEqual(oracleRows(theirs.rows ?? []));
    expect(byId(rows.map((r) => lakeValueToJson(r) as Record<string, unknown>))).toEqual(EXPECTED);
    // The oracle's own view of one row: exact µs and digits, no rounding on its side either.
    expect(oracleRows(theirs.rows ?? []).find((r) => r.includes('"$int":"1"'))).toBe(
      JSON.stringify({
        amount: '99999999999999999999.999999999999999999',
        big: { $int: '9223372036854775807' },
        id: { $int: '1' },
        ts: { $ts: '253402300799999999' },
        wall: { $ts_ntz: '253402300799999999' },
      }),
    );
  });

  it('`alphalake lake read --format jsonl` prints every digit; csv too', async () => {
    const { stdout } = await run(process.execPath, [
      CLI,
      'lake',
      'read',
      theirsDir,
      '--format',
      'jsonl',
    ]);
    const lines = stdout.trim().split('\n');
    expect(byId(lines.map((line) => JSON.parse(line) as Record<string, unknown>))).toEqual(
      EXPECTED,
    );
    expect(stdout).toContain('"big":"9223372036854775807"');
    expect(stdout).toContain('"ts":"2024-03-01T09:30:09.292971Z"');
    const csv = await run(process.execPath, [CLI, 'lake', 'read', theirsDir, '--format', 'csv']);
    expect(csv.stdout.split('\n')).toContain(
      '3,2024-03-01T09:30:09.292971Z,2024-03-01T09:30:09.292971,9007199254740993,12345678901234567890.123456789012345678',
    );
  });

  describe('GraphQL lakeRows', () => {
    let platform: Platform;
    let server: ApiServer;
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as {
        data?: { lakeRows: { table: string; version: number; rows: Record<string, unknown>[] } };
        errors?: { message: string; extensions?: { code?: string } }[];
      };
    };
    const LAKE_ROWS = `query($table: String!) { lakeRows(table: $table, limit: 10) { table version columns { name type } rows } }`;

    beforeAll(async () => {
      platform = await createPlatform(
        configWith({ home, port: 0, simulatorEnabled: false, authMode: 'off' }),
      );
      await platform.start({ live: false });
      server = await startLoopbackApi(platform);
    });

    afterAll(async () => {
      await server?.close();
      await platform?.stop();
    });

    it('serves the delta-rs table with every digit', async () => {
      const result = await gql(LAKE_ROWS, { table: 'interop/delta-rs' });
      expect(result.errors).toBeUndefined();
      expect(result.data?.lakeRows).toMatchObject({ table: 'interop/delta-rs', version: 0 });
      expect(byId(result.data!.lakeRows.rows)).toEqual(EXPECTED);
    });

    it.each(['../x', '/etc', 'interop/../../x', 'interop/delta-rs/_delta_log', '.', 'a\\b', ''])(
      'refuses %j, which is not a table under the lake root, with BAD_USER_INPUT',
      async (table) => {
        const result = await gql(LAKE_ROWS, { table });
        expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      },
    );

    it('answers NOT_FOUND for a folder that holds no table', async () => {
      const result = await gql(LAKE_ROWS, { table: 'interop/nothing' });
      expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });
  });

  it('delta-rs reads the same rows written by alphalake identically', async () => {
    const ours = path.join(home, 'lake', 'interop', 'alphalake');
    const table = await DeltaTable.create(localObjectStore(path.dirname(ours)), 'alphalake', {
      schema: SCHEMA,
    });
    await table.append(CASES.map((c) => c.input));
    const [read] = await oracle([{ op: 'read', path: ours }]);
    expect(read?.error).toBeUndefined();
    expect(read?.rows_error).toBeUndefined();
    expect(oracleRows(read?.rows ?? [])).toEqual(oracleRows(theirs.rows ?? []));
    const { rows } = await table.query();
    expect(canonicalRows(rows, (await table.snapshot()).schema)).toEqual(
      oracleRows(read?.rows ?? []),
    );
    expect(read?.schema).toEqual(theirs.schema);
  });
});
