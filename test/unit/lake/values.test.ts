import { describe, expect, it } from 'vitest';
import { isAlphalakeError } from '../../../src/domain/index.js';
import { LakeTimestamp, lakeValueToJson } from '../../../src/lake/index.js';

/** The lake's timestamp value and its JSON, at the edges of the Delta range. */
describe('LakeTimestamp', () => {
  it.each([
    [253_402_300_799_999_999n, false, '9999-12-31T23:59:59.999999Z', undefined],
    [-1n, false, '1969-12-31T23:59:59.999999Z', -1],
    [-62_135_596_800_000_000n, false, '0001-01-01T00:00:00.000Z', undefined],
    [-2_208_988_799_999_999n, true, '1900-01-01T00:00:00.000001', -2_208_988_799_999_999],
    [1_709_285_409_292_000n, true, '2024-03-01T09:30:09.292', 1_709_285_409_292_000],
  ])('%s µs (ntz %s) prints %s', (micros, ntz, iso, epochMicros) => {
    const value = new LakeTimestamp(micros, ntz);
    expect(value.toISOString()).toBe(iso);
    expect(JSON.stringify({ ts: value })).toBe(`{"ts":"${iso}"}`);
    expect(value.epochMicros).toBe(epochMicros);
  });

  it('floors to a Date only when asked, also before 1970', () => {
    expect(new LakeTimestamp(-1n).toDate().toISOString()).toBe('1969-12-31T23:59:59.999Z');
    expect(new LakeTimestamp(1_999n).toDate().getTime()).toBe(1);
  });
});

describe('lakeValueToJson', () => {
  it('keeps every digit a JSON parser could lose', () => {
    const row = {
      big: 2n ** 63n - 1n,
      safe: 2 ** 53 - 1,
      amount: '-0.000000000000000001',
      nan: NaN,
      inf: -Infinity,
      ts: new LakeTimestamp(1_709_285_409_292_971n),
      nested: { list: [new LakeTimestamp(-1n, true), -(2n ** 63n)] },
      bytes: new Uint8Array([0, 255]),
    };
    const text = JSON.stringify(lakeValueToJson(row));
    expect(text).toBe(
      '{"big":"9223372036854775807","safe":9007199254740991,"amount":"-0.000000000000000001",' +
        '"nan":"NaN","inf":"-Infinity","ts":"2024-03-01T09:30:09.292971Z",' +
        '"nested":{"list":["1969-12-31T23:59:59.999999","-9223372036854775808"]},"bytes":"AP8="}',
    );
  });
});

describe('timestamp input', () => {
  it('takes a number as epoch µs and refuses a fraction of one', async () => {
    const { DeltaTable, localObjectStore } = await import('../../../src/lake/index.js');
    const { tempDir } = await import('./helpers.js');
    const { dir, cleanup } = await tempDir();
    try {
      const table = await DeltaTable.create(localObjectStore(dir), 't', {
        schema: [{ name: 'ts', type: 'timestamp', nullable: false }],
      });
      await table.append([{ ts: 1_709_285_409_292_971 }, { ts: -1 }]);
      const { rows } = await table.query({ orderBy: [{ column: 'ts' }] });
      expect(rows.map((r) => String(r['ts']))).toEqual([
        '1969-12-31T23:59:59.999999Z',
        '2024-03-01T09:30:09.292971Z',
      ]);
      await expect(table.append([{ ts: 1.5 }])).rejects.toSatisfy((e) =>
        isAlphalakeError(e, 'BAD_USER_INPUT'),
      );
      // Filters take µs too, exactly: the row at 1 µs before 1970 and nothing else.
      const { rows: before } = await table.query({
        filters: [{ column: 'ts', op: '<', value: 0 }],
      });
      expect(before).toEqual([{ ts: new LakeTimestamp(-1n) }]);
    } finally {
      await cleanup();
    }
  });

  it('keeps µs in nested timestamps too (struct fields, array elements)', async () => {
    const { DeltaTable, localObjectStore } = await import('../../../src/lake/index.js');
    const { tempDir } = await import('./helpers.js');
    const { dir, cleanup } = await tempDir();
    try {
      const table = await DeltaTable.create(localObjectStore(dir), 'n', {
        schema: [
          {
            name: 'fill',
            type: {
              type: 'struct',
              fields: [
                { name: 'at', type: 'timestamp', nullable: true },
                { name: 'wall', type: 'timestamp_ntz', nullable: true },
              ],
            },
            nullable: true,
          },
          {
            name: 'times',
            type: { type: 'array', elementType: 'timestamp', containsNull: true },
            nullable: true,
          },
        ],
      });
      const at = new LakeTimestamp(-1n);
      const wall = new LakeTimestamp(1_709_285_409_292_971n, true);
      const far = new LakeTimestamp(253_402_300_799_999_999n);
      await table.append([{ fill: { at, wall }, times: [far, null, at] }]);
      const { rows } = await table.query();
      expect(rows).toEqual([{ fill: { at, wall }, times: [far, null, at] }]);
    } finally {
      await cleanup();
    }
  });
});
