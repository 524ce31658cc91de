import { describe, expect, it } from 'vitest';
import { capturedLogger } from '../../support/log-capture.js';
import { requestIdOf, withRequestScope } from '../../../src/logging/index.js';

describe('logger', () => {
  it('writes one JSON object per line with the request id of the scope it runs in', async () => {
    const { logger, text } = capturedLogger();
    logger.info('outside');
    await withRequestScope({ requestId: 'r-1' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.child({ part: 'x' }).warn({ rows: 3 }, 'inside');
    });
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const [outside, inside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(outside).toMatchObject({ level: 'info', msg: 'outside', service: 'alphalake' });
    expect(outside?.['requestId']).toBeUndefined();
    expect(inside).toMatchObject({
      level: 'warn',
      msg: 'inside',
      requestId: 'r-1',
      part: 'x',
      rows: 3,
    });
  });

  it('redacts tokens, API keys, passwords and credential headers', () => {
    const { logger, text } = capturedLogger();
    const secret = 'sk-0123456789abcdef';
    logger.info(
      {
        req: {
          headers: { authorization: `Bearer ${secret}`, 'x-api-key': secret, cookie: secret },
        },
        token: secret,
        user: { apiKey: secret, password: secret, name: 'ada' },
        job: { spec: { secret } },
      },
      'login',
    );
    const line = JSON.parse(text()) as Record<string, unknown>;
    expect(text()).not.toContain(secret);
    expect(line).toMatchObject({
      req: { headers: { authorization: '[Redacted]', 'x-api-key': '[Redacted]' } },
      token: '[Redacted]',
      user: { apiKey: '[Redacted]', password: '[Redacted]', name: 'ada' },
      job: { spec: { secret: '[Redacted]' } },
    });
  });

  it('keeps a sensible x-request-id and replaces anything else', () => {
    expect(requestIdOf('abc-123_x.y:z/1')).toBe('abc-123_x.y:z/1');
    expect(requestIdOf(['first', 'second'])).toBe('first');
    for (const bad of [undefined, '', 'a b', 'x'.repeat(129), 'q"uote', 'line\nbreak']) {
      expect(requestIdOf(bad)).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    }
  });
});
