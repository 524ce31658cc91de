import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * scripts/chromium, the finder `npm run test:e2e` runs first: an explicit
 * ALPHALAKE_CHROMIUM wins, and one that is not there fails at once with one line
 * (never an apt-get run). Whether a machine has Chromium elsewhere varies, so only
 * the explicit branches are asserted here.
 */
const script = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../scripts/chromium',
);
const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'alphalake-chromium-'));
const fake = path.join(dir, 'my-chromium');
writeFileSync(fake, '#!/bin/sh\nexit 0\n');
chmodSync(fake, 0o755);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/chromium', () => {
  it('prints ALPHALAKE_CHROMIUM when it is an executable', async () => {
    const { stdout } = await run(script, [], {
      env: { ...process.env, ALPHALAKE_CHROMIUM: fake },
    });
    expect(stdout).toBe(`${fake}\n`);
  });

  it('runs a command with ALPHALAKE_CHROMIUM set to what it found', async () => {
    const { stdout } = await run(script, ['sh', '-c', 'echo "$ALPHALAKE_CHROMIUM"'], {
      env: { ...process.env, ALPHALAKE_CHROMIUM: fake },
    });
    expect(stdout).toBe(`${fake}\n`);
  });

  it('fails at once with one line when ALPHALAKE_CHROMIUM is not there', async () => {
    const missing = path.join(dir, 'no-such-chromium');
    const failure = await run(script, ['sh', '-c', 'echo ran'], {
      env: { ...process.env, ALPHALAKE_CHROMIUM: missing },
    }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toBe(
      `chromium: ALPHALAKE_CHROMIUM=${missing} is not an executable file; point it at a Chromium or Chrome binary, or unset it\n`,
    );
  });
});
