import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPlatform } from '../../src/app.js';
import { vendorSource } from '../../src/cli/index.js';
import { configWith } from '../../src/config/index.js';
import { createLogger, setProcessLogger } from '../../src/logging/index.js';
import { startLoopbackApi } from '../support/api.js';
import { capturedLogger } from '../support/log-capture.js';
import { startPolygonRest, type VendorServer } from '../support/vendor-servers.js';

/**
 * Issue 10: "The API key appears in no log line, error message or metric (a test greps for
 * it)". The platform ingests from the local Polygon protocol server as `alphalake ingest
 * --source polygon` does (the CLI's own source, its retry log lines), through a 429 with
 * Retry-After, a burst of 5xx whose bodies echo the key, and a malformed page that holds
 * it too; then the key is looked for in `/metrics` as served over HTTP, in everything the
 * process logged (pino and console), in every error (message, stack, details), and in
 * bronze.rejects. It is nowhere.
 */
const KEY = 'pk_secrecy_7c1e5d93b2a04f68';
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-key-'));
const servers: VendorServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(home, { recursive: true, force: true });
});

const captured = capturedLogger();
const consoleLines: string[] = [];
beforeEach(() => {
  for (const method of ['log', 'error', 'warn', 'info'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      consoleLines.push(args.map(String).join(' '));
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
  setProcessLogger(createLogger({ level: 'silent' }));
});

describe('POLYGON_API_KEY', () => {
  it('is in no metric, log line, error or reject after 429s, 5xx and a malformed page', async () => {
    const echo = (status: number) => ({
      status,
      body: JSON.stringify({ status: 'ERROR', request_id: 'r', error: `unknown key ${KEY}` }),
    });
    const server = await startPolygonRest({
      apiKey: KEY,
      routes: {
        '/v3/trades/AAPL': 'polygon/trades-AAPL.json',
        '/v3/quotes/AAPL': 'polygon/quotes-AAPL.json',
        '/v3/trades/MSFT': 'polygon/trades-AAPL.json',
      },
      faults: {
        '/v3/trades/AAPL': [{ ...echo(429), retryAfter: '1' }, echo(500), echo(502), echo(503)],
        // More 5xx than retries: the client gives up, its error quoting the server's text.
        '/v3/trades/MSFT': Array.from({ length: 6 }, () => echo(503)),
      },
      malformedPages: {
        '/v3/quotes/AAPL': {
          page: 0,
          body: `{"status":"OK","request_id":"${KEY}","results":"not a list of ${KEY}"}`,
        },
      },
    });
    servers.push(server);
    const config = configWith({
      home,
      port: 0,
      backfillSessions: 0,
      authMode: 'off',
      simulatorEnabled: false,
      polygonApiKey: KEY,
      polygonApiUrl: server.url,
      polygonCallsPerMinute: 0,
      polygonMaxRetries: 5,
      polygonBackoffMs: 10,
    });
    // The platform's logger is the process logger (createPlatform sets it): captured here.
    const platform = await createPlatform(config, { logger: captured.logger });
    await platform.start({ live: false });
    const api = await startLoopbackApi(platform);
    const errors: unknown[] = [];
    const logLines: string[] = [];
    const range = { from: '2018-02-02', to: '2018-02-03' };
    try {
      for (const [dataset, symbols] of [
        ['trades', 'AAPL'],
        ['quotes', 'AAPL'],
        ['trades', 'MSFT'],
      ] as const) {
        const source = vendorSource(
          config,
          { source: 'polygon', dataset, symbols, ...range },
          (line) => logLines.push(line),
        );
        try {
          for await (const batch of source.records(new AbortController().signal)) {
            await platform.ingestor.ingestRecords(batch, source.name);
          }
        } catch (error) {
          errors.push(error);
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
      await platform.sink.flush();

      // The run did meet every fault: the retries were logged, and the malformed page failed.
      expect(logLines.filter((l) => /AAPL answered (429|500|502|503);/.test(l))).toHaveLength(4);
      expect(logLines.filter((l) => /MSFT answered 503;/.test(l))).toHaveLength(5);
      expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
        'UPSTREAM_MALFORMED',
        'UNAVAILABLE',
      ]);
      // The server's text reached the error with the key masked: it was there to leak.
      expect(String(errors[1])).toContain('unknown key ***');
      const trades = await platform.tables.trades.query({ columns: ['id'] });
      expect(trades.rows.length).toBeGreaterThan(0);
      // The server saw the key (in the Authorization header), so it was in play.
      expect(server.requests.some((r) => r.authorization === `Bearer ${KEY}`)).toBe(true);

      const metrics = await (await fetch(new URL('/metrics', api.url))).text();
      expect(metrics).toMatch(/alphalake_ingested_records_total/);
      const rejects = await platform.tables.rejects.query({});
      const errorText = errors.map((e) => {
        const error = e as Error & { details?: unknown; cause?: unknown };
        return [
          String(error),
          error.stack ?? '',
          JSON.stringify(error.details ?? null),
          String(error.cause ?? ''),
        ].join('\n');
      });
      const places: Record<string, string> = {
        '/metrics': metrics,
        'process log (pino)': captured.text(),
        console: consoleLines.join('\n'),
        'retry log lines': logLines.join('\n'),
        errors: errorText.join('\n'),
        'bronze.rejects': JSON.stringify(rejects.rows, (_k, v: unknown) =>
          typeof v === 'bigint' ? v.toString() : v,
        ),
      };
      for (const [place, text] of Object.entries(places)) {
        expect(text.length, place).toBeGreaterThan(0);
        expect(text.includes(KEY), `the key in ${place}`).toBe(false);
      }
    } finally {
      await api.close();
      await platform.stop();
    }
  }, 120_000);
});
