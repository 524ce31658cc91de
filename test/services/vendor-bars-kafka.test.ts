import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minuteAggsRows, minuteAggsText } from '../support/polygon-fixture.js';
import { spawnCli } from '../support/processes.js';
import { deltaRsRowCount, endpoints, kafkaRoleEnv, repoRoot, requireService } from './endpoints.js';

/**
 * Issue 10's vendor bars through the real Kafka: a Polygon minute-aggregates flat file is
 * replayed by `alphalake ingest --source file` (a producer only) while an `alphalake sink`
 * process commits the `bars` topic to bronze.vendor_bars. delta-rs (not our reader) then
 * finds every valid bar exactly once, each number equal to the file's text read as a
 * double, the vwap NULL (the file has none), the source named, and the bad row in
 * bronze.rejects with its reason. The vendor's corrected file of the same day (same name,
 * other values for some bars, two more minutes) is then replayed through Kafka too: every
 * bar is still there once, with the correction's values (the sink upserts on the bar's key).
 */
const MINUTES = Number(process.env.ALPHALAKE_VENDOR_BARS_MINUTES ?? 390);
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const run = promisify(execFile);

const ORACLE = `
import json, sys
from deltalake import DeltaTable
bars = DeltaTable(sys.argv[1] + "/bronze/vendor_bars").to_pyarrow_table()
rejects = DeltaTable(sys.argv[1] + "/bronze/rejects").to_pyarrow_table(columns=["source", "reason", "payload"])
col = lambda t, c: t.column(c).to_pylist()
out = {
  # Integers as text: exact whatever their size. Floats as Python's repr: the shortest text
  # that reads back as the same double, as JavaScript's Number() reads it.
  "bars": [[s, i, str(ts), repr(o), repr(h), repr(l), repr(c), repr(v), w, None if n is None else str(n), src, str(d)]
    for s, i, ts, o, h, l, c, v, w, n, src, d in zip(
      col(bars, "symbol"), col(bars, "interval"), bars.column("ts").cast("int64").to_pylist(),
      col(bars, "open"), col(bars, "high"), col(bars, "low"), col(bars, "close"), col(bars, "volume"),
      col(bars, "vwap"), col(bars, "transactions"), col(bars, "source"), col(bars, "date"))],
  "rejects": [list(r) for r in zip(*[col(rejects, c) for c in ["source", "reason", "payload"]])],
}
print(json.dumps(out), flush=True)
import os; os._exit(0)
`;

describe('vendor bars through Kafka into bronze.vendor_bars (services tier)', () => {
  let home = '';

  beforeAll(async () => {
    await requireService('kafka');
    await requireService('python');
    home = await mkdtemp(path.join(os.tmpdir(), 'alphalake-vendor-bars-'));
  });

  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it(`lands each of ${MINUTES * 2} minute aggregates once, at full precision, read by delta-rs, also when a corrected file delivers them again`, async () => {
    const fixture = minuteAggsRows(MINUTES);
    const file = path.join(home, 'minute_aggs_v1.csv');
    await writeFile(file, minuteAggsText(fixture));
    // The correction: close set to the open and another volume for every 50th AAPL bar, and
    // the two minutes after the file's last; under the same name (the same source).
    const corrected = [
      ...fixture.rows.map((r, i) =>
        r[0] === 'AAPL' && i % 100 === 0 ? [r[0], '777.25', r[2]!, r[2]!, ...r.slice(4)] : r,
      ),
      ...minuteAggsRows(MINUTES + 2).rows.slice(fixture.rows.length),
    ];
    const correctedFile = path.join(home, 'corrected', 'minute_aggs_v1.csv');
    await mkdir(path.dirname(correctedFile));
    await writeFile(correctedFile, minuteAggsText({ rows: corrected, bad: fixture.bad }));
    const env = kafkaRoleEnv(home, 'alphalake-vendor-bars', 3);
    const log: string[] = [];
    const child = (args: string[]) => spawnCli(CLI, args, env, log);
    const sink = child(['sink']);
    /** Replays `path` through Kafka and waits until delta-rs sees `rows` bars (or no progress). */
    const replay = async (path: string, rows: number) => {
      const ingest = child([
        'ingest',
        '--source',
        'file',
        '--path',
        path,
        '--format',
        'polygon-minute-aggs',
      ]);
      expect(await ingest.exited, log.join('').slice(-4_000)).toBe(0);
      // The sink commits once a second.
      let seen = -1;
      let still = 0;
      for (;;) {
        await sleep(2_000);
        const count = await deltaRsRowCount(home, 'bronze/vendor_bars');
        if (count >= rows) break;
        still = count === seen ? still + 1 : 0;
        seen = count;
        if (still >= 30) break;
      }
    };
    try {
      await replay(file, fixture.rows.length);
      // Each partition's last bar (the added minutes) committed: so is all before it.
      await replay(correctedFile, corrected.length);
      // One more interval: anything written twice would show now.
      await sleep(3_000);
    } finally {
      sink.process.kill('SIGTERM');
      await sink.exited;
    }
    const oracle = path.join(home, 'oracle.py');
    await writeFile(oracle, ORACLE);
    const { stdout } = await run(endpoints.python, [oracle, path.join(home, 'lake')], {
      maxBuffer: 256 * 1024 * 1024,
    });
    const found = JSON.parse(stdout) as {
      bars: (string | number | null)[][];
      rejects: [string, string, string][];
    };
    const source = 'file:minute_aggs_v1.csv';
    const key = (symbol: unknown, micros: unknown) => `${String(symbol)}/${String(micros)}`;
    const expected = new Map(
      corrected.map((r) => [
        key(r[0], BigInt(r[6]!) / 1000n),
        [
          r[0],
          '1m',
          (BigInt(r[6]!) / 1000n).toString(),
          // The file's text as a double, in Python's repr (shortest round-trip, as JS's).
          ...[r[2], r[4], r[5], r[3], r[1]].map((text) => pyRepr(Number(text))),
          null,
          r[7],
          source,
          '2024-03-28',
        ],
      ]),
    );
    const seenKeys = new Set<string>();
    const mismatches: string[] = [];
    for (const bar of found.bars) {
      const k = key(bar[0], bar[2]);
      const want = expected.get(k);
      if (!want || seenKeys.has(k)) {
        mismatches.push(`${k}: ${want ? 'twice' : 'not in the file'}`);
        continue;
      }
      seenKeys.add(k);
      if (JSON.stringify(bar) !== JSON.stringify(want))
        mismatches.push(`${k}: got ${JSON.stringify(bar)}, expected ${JSON.stringify(want)}`);
    }
    expect(mismatches.slice(0, 10), log.join('').slice(-4_000)).toEqual([]);
    expect(found.bars.length).toBe(corrected.length);
    // The bad row once per replay: each run read it and rejected it.
    expect(
      found.rejects
        .filter(([s]) => s === source)
        .map(([, reason, payload]) => `${reason} ${payload}`),
    ).toEqual([1, 2].map(() => `BAR_INCONSISTENT ${fixture.bad.join(',')}`));
  }, 600_000);
});

/** Python's repr of a float: JavaScript's shortest round-trip digits, with Python's spelling. */
function pyRepr(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  const text = String(value);
  // 1e+21 → 1e+21 in both; 1.5e-7 → 1.5e-07 in Python.
  return text.replace(/e([+-])(\d)$/, 'e$10$2');
}
