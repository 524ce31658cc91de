import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePolygonTradesFile } from '../support/polygon-fixture.js';
import { spawnCli } from '../support/processes.js';
import { deltaRsRowCount, endpoints, kafkaRoleEnv, repoRoot, requireService } from './endpoints.js';

/**
 * Issue 10's acceptance: a Polygon-layout trades flat file of ROWS rows (gzip), generated
 * here with planted bad, duplicate and corrected rows, is replayed by `alphalake ingest
 * --source file` through the real Kafka while an `alphalake sink` process commits it to
 * the lake. delta-rs (not our reader) then finds in bronze.trades exactly the valid trades,
 * each with its nanosecond `ts_nanos` whole, and in bronze.rejects every planted row as
 * recorded with its reason. ALPHALAKE_REPLAY_ROWS scales it (default 1M, as the issue asks).
 */
const ROWS = Number(process.env.ALPHALAKE_REPLAY_ROWS ?? 1_000_000);
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const run = promisify(execFile);

const ORACLE = `
import json, sys
from deltalake import DeltaTable
trades = DeltaTable(sys.argv[1] + "/bronze/trades").to_pyarrow_table(
    columns=["symbol", "id", "ts", "ts_nanos", "price", "size", "seq"])
rejects = DeltaTable(sys.argv[1] + "/bronze/rejects").to_pyarrow_table(
    columns=["source", "reason", "payload", "detail"])
col = lambda t, c: t.column(c).to_pylist()
out = {
  # Integers as text: a JSON number past 2^53 would lose digits in JavaScript.
  "trades": [[s, i, str(us), str(ns), p, z, q] for s, i, us, ns, p, z, q in zip(
      col(trades, "symbol"), col(trades, "id"),
      trades.column("ts").cast("int64").to_pylist(), col(trades, "ts_nanos"),
      col(trades, "price"), col(trades, "size"), col(trades, "seq"))],
  "rejects": [list(r) for r in zip(*[col(rejects, c) for c in ["source", "reason", "payload", "detail"]])],
}
print(json.dumps(out), flush=True)
# delta-rs aborts now and then while its runtime shuts down: the answer is out.
import os; os._exit(0)
`;

describe('replaying a Polygon trades flat file through Kafka into the lake (services tier)', () => {
  let home = '';

  beforeAll(async () => {
    await requireService('kafka');
    await requireService('python');
    home = await mkdtemp(path.join(os.tmpdir(), 'alphalake-replay-'));
  });

  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it(`lands exactly the valid trades of ${ROWS} rows, nanoseconds whole, and every bad row with its reason`, async () => {
    const file = path.join(home, 'trades_v1.csv.gz');
    const fixture = await writePolygonTradesFile(file, ROWS);
    expect(fixture.rows).toBe(ROWS);
    const env = kafkaRoleEnv(home, 'alphalake-replay', 4);
    const log: string[] = [];
    const child = (args: string[]) => spawnCli(CLI, args, env, log);
    const sink = child(['sink']);
    try {
      const ingest = child([
        'ingest',
        '--source',
        'file',
        '--path',
        file,
        '--format',
        'polygon-trades',
      ]);
      expect(await ingest.exited, log.join('').slice(-4_000)).toBe(0);
      // The sink commits once a second: wait until delta-rs sees every row (or no progress).
      let seen = -1;
      let still = 0;
      for (;;) {
        await sleep(2_000);
        const count = await deltaRsRowCount(home, 'bronze/trades');
        if (count >= fixture.valid.length) break;
        still = count === seen ? still + 1 : 0;
        seen = count;
        if (still >= 30) break;
      }
      // Rejects are committed before the trades of the same flush: they are in by now.
    } finally {
      sink.process.kill('SIGTERM');
      await sink.exited;
    }
    const oracle = path.join(home, 'oracle.py');
    await writeFile(oracle, ORACLE);
    const { stdout } = await run(endpoints.python, [oracle, path.join(home, 'lake')], {
      maxBuffer: 1024 * 1024 * 1024,
    });
    const found = JSON.parse(stdout) as {
      trades: [string, string, string, string, number, number, number][];
      rejects: [string, string, string, string | null][];
    };
    // Exactly the valid trades: same count, each (symbol, id) once, every field equal.
    expect(found.trades.length, log.join('').slice(-4_000)).toBe(fixture.valid.length);
    const byKey = new Map(fixture.valid.map((t) => [`${t.symbol}/${t.id}`, t]));
    const matched = new Set<string>();
    const mismatches: string[] = [];
    found.trades.forEach(([symbol, id, micros, nanos, price, size, seq]) => {
      const key = `${symbol}/${id}`;
      const expected = byKey.get(key);
      if (!expected || matched.has(key)) {
        mismatches.push(`${key}: ${expected ? 'twice' : 'not in the file'}`);
        return;
      }
      matched.add(key);
      if (
        nanos !== expected.tsNanos.toString() ||
        price !== expected.price ||
        size !== expected.size ||
        seq !== expected.seq ||
        // ts (µs) is the floor of ts_nanos.
        micros !== (expected.tsNanos / 1000n).toString()
      ) {
        mismatches.push(
          `${key}: got ${nanos}/${micros}/${price}/${size}/${seq}, expected ${expected.tsNanos}/${expected.price}/${expected.size}/${expected.seq}`,
        );
      }
    });
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(matched.size).toBe(fixture.valid.length);

    // Every planted row, as recorded, with its reason (the file's rejects; the sink's own
    // LATE_EVENT notes, if any, are about trades that bronze.trades holds all the same).
    const fileRejects = found.rejects.filter(([source]) => source === 'file:trades_v1.csv.gz');
    const got = fileRejects.map(([, reason, payload]) => `${reason} ${payload}`).sort();
    const expected = fixture.rejects.map((r) => `${r.reason} ${r.line}`).sort();
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
    const malformed = fileRejects.filter(([, reason]) => reason === 'MALFORMED_ROW');
    expect(
      malformed.every(([, , , detail]) => typeof detail === 'string' && detail.length > 0),
    ).toBe(true);
    const late = found.rejects.filter(([, reason]) => reason === 'LATE_EVENT').length;
    const counts = new Map<string, number>();
    for (const r of fixture.rejects) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
    console.log(
      `replay of ${ROWS} rows: ${found.trades.length} trades, rejects ${JSON.stringify(Object.fromEntries(counts))}, sink LATE_EVENT notes ${late}`,
    );
    console.log(log.filter((line) => /rows read/.test(line)).join(''));
  }, 1_200_000);
});
