import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { createPlatform, type Platform, type StartReport } from '../../src/app.js';
import { configWith, type Config } from '../../src/config/index.js';
import { ManualClock } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from './api.js';

/** A GraphQL response as the wire carries it. */
/** A bar's market fields as the API names them (`bars`, `barsMany`, the `bars` subscription). */
export interface ApiBar {
  tsMicros: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  tradeCount: number;
}

export interface GqlResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** POSTs one operation to `url`, with a bearer token when given; answers the whole envelope. */
export async function postGraphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  authorization?: string,
): Promise<GqlResult<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GqlResult<T>;
}

/** The data of an operation that must succeed: any error fails the test, with its message. */
export function dataOf<T>(result: GqlResult<T>): T {
  expect(result.errors).toBeUndefined();
  return result.data!;
}

/**
 * An embedded platform in a fresh temporary home, on a clock the test moves by hand,
 * behind a loopback GraphQL server: the setup the end-to-end tests share.
 * `home`, `config` and `clock` exist at once (tests build oracles from them);
 * `platform` and `server` once `start` has run.
 */
export class EmbeddedApi {
  readonly home: string;
  readonly config: Config;
  readonly clock: ManualClock;
  platform!: Platform;
  server!: ApiServer;

  constructor(prefix: string, t0: number, settings: Partial<Config> = {}) {
    this.home = mkdtempSync(path.join(tmpdir(), prefix));
    this.config = configWith({ home: this.home, port: 0, ...settings });
    this.clock = new ManualClock(t0);
  }

  /** Creates and starts the platform (history backfilled, no live feed) and its server. */
  async start(): Promise<StartReport> {
    this.platform = await createPlatform(this.config, { clock: this.clock });
    const report = await this.platform.start({ live: false });
    this.server = await startLoopbackApi(this.platform);
    return report;
  }

  /** Stops the server and the platform and starts them again on the same home. */
  async restart(): Promise<StartReport> {
    await this.server.close();
    await this.platform.stop();
    return this.start();
  }

  /** Stops the server and the platform (either may not have started) and removes the home. */
  async stop(): Promise<void> {
    await this.server?.close();
    await this.platform?.stop();
    rmSync(this.home, { recursive: true, force: true });
  }
}
