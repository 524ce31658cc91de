import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import { startApiServer, type ApiServer } from '../../src/graphql/index.js';

/**
 * A person's view: headless Chromium opens /graphql, GraphiQL loads from the server's
 * own assets (no request leaves the machine), a subscription typed into it streams
 * live AAPL trades over graphql-ws, and a query returns lake bars.
 */
// `npm run test:e2e` runs this file through scripts/chromium, which finds (or installs)
// Chromium and sets ALPHALAKE_CHROMIUM; run alone, Debian's path is the guess.
const CHROMIUM = process.env['ALPHALAKE_CHROMIUM'] || '/usr/bin/chromium';
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-e2e-'));
let platform: Platform;
let server: ApiServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: run \`npm run test:e2e\` (scripts/chromium finds or installs one) or set ALPHALAKE_CHROMIUM`,
    );
  }
  const config = configWith({
    home,
    backfillSessions: 1,
    simulatorTradesPerSecond: 2,
    authMode: 'off',
  });
  platform = await createPlatform(config);
  await platform.start();
  server = await startApiServer(platform.api, {
    host: '127.0.0.1',
    port: 0,
    development: false,
    ready: () => true,
    auth: platform.auth,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function run(query: string, until: (response: string) => boolean) {
  const page = await browser.newPage();
  const outside: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(new URL(server.url).origin)) outside.push(request.url());
  });
  await page.goto(server.url);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30_000 });
  // Runs in the page (this project compiles without DOM types, so the page is typed here).
  await page.evaluate((text) => {
    const page = globalThis as unknown as {
      document: { querySelector(selector: string): { CodeMirror: { setValue(v: string): void } } };
    };
    page.document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text);
  }, query);
  // GraphiQL parses the edited document after a short debounce; a person types slower.
  await page.waitForTimeout(1_000);
  await page.click('.graphiql-execute-button');
  let response = '';
  for (let i = 0; i < 60 && !until(response); i++) {
    await page.waitForTimeout(500);
    response = (await page.textContent('.graphiql-response')) ?? '';
  }
  await page.close();
  return { response, outside };
}

describe('GraphiQL in a browser', () => {
  it('streams live AAPL trades from a subscription, with no request leaving the machine', async () => {
    const { response, outside } = await run(
      'subscription { trades(symbols: ["AAPL"]) { symbol price ts } }',
      (text) => text.includes('"symbol"'),
    );
    expect(response).toContain('"symbol": "AAPL"');
    expect(response).not.toMatch(/"symbol": "(?!AAPL)/);
    expect(outside).toEqual([]);
  });

  it('runs a query and shows lake bars', async () => {
    const { response } = await run(
      '{ bars(symbol: "MSFT", limit: 3) { ts close source } }',
      (text) => text.includes('"source"'),
    );
    expect(response).toContain('"source": "LAKE"');
  });
});
