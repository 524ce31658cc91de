import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/index.js';
import { EmbeddedMasterDataStore, MasterData } from '../../src/mdm/index.js';
import { startPolygonRest, type VendorServer } from '../support/vendor-servers.js';

/**
 * `alphalake mdm refresh` as a user runs it, against a local server speaking Polygon's
 * reference endpoints: each record's outcome printed as a JSON line, exit 2 with
 * INCOMPLETE for a ticker Polygon does not know, nothing changed the second time, and the
 * key in no line the process prints.
 */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const KEY = 'pk_cli_refresh_8d41c2';
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-mdm-cli-'));
let server: VendorServer;
afterAll(async () => {
  await server?.close();
  rmSync(home, { recursive: true, force: true });
});

function refresh(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'mdm', 'refresh', ...args], {
    env: {
      ...process.env,
      NODE_ENV: '',
      ALPHALAKE_HOME: home,
      POLYGON_API_KEY: KEY,
      POLYGON_API_URL: server.url,
      POLYGON_CALLS_PER_MINUTE: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const outcomes = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { of: string; key: string; status: string; code?: string });

describe('alphalake mdm refresh', () => {
  it('prints each record’s outcome, exits 2 with INCOMPLETE for an unknown ticker, and changes nothing the second time', async () => {
    server = await startPolygonRest({
      apiKey: KEY,
      details: { '/v3/reference/tickers/SPY': 'polygon/ticker-SPY.json' },
      routes: {
        '/v3/reference/tickers': 'polygon/tickers-reference.json',
        '/v3/reference/splits': 'polygon/splits-AAPL.json',
        '/v3/reference/dividends': 'polygon/dividends-AAPL.json',
      },
    });
    const first = await refresh(['--source', 'polygon', '--symbols', 'SPY,NOPE']);
    expect(first.code).toBe(2);
    expect(outcomes(first.stdout).map((o) => [o.of, o.key, o.status, o.code ?? null])).toEqual([
      ['symbol', 'SPY', 'CREATED', null],
      ['symbol', 'NOPE', 'ERROR', 'NOT_FOUND'],
    ]);
    expect(first.stderr).toContain('polygon refresh: 1 record(s) created or updated');
    expect(first.stderr).toMatch(
      /INCOMPLETE: polygon refresh: 1 record\(s\) in error: symbol NOPE/,
    );

    const second = await refresh(['--source', 'polygon', '--symbols', 'SPY']);
    expect(second.code).toBe(0);
    expect(outcomes(second.stdout).map((o) => [o.key, o.status])).toEqual([['SPY', 'UNCHANGED']]);
    for (const output of [first.stdout, first.stderr, second.stdout, second.stderr]) {
      expect(output).not.toContain(KEY);
    }

    // What the CLI wrote is in the home's master data, audited as the CLI's user.
    const store = await EmbeddedMasterDataStore.open(path.join(home, 'mdm'));
    const masterData = await MasterData.open(store, { clock: new ManualClock(0) });
    const spy = masterData.symbol('SPY')!;
    expect(spy).toMatchObject({ name: 'SPDR S&P 500 ETF Trust', exchange: 'ARCX', version: 1 });
    const log = await masterData.auditLog({ entity: spy.id });
    expect(log.map((r) => [r.action, r.actor.startsWith('cli:')])).toEqual([
      ['symbol.create', true],
    ]);
    await store.close();
  });
});
