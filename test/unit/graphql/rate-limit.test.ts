import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { credentialOrAddress, RateLimiter } from '../../../src/graphql/index.js';

/** A request as the server sees it: a socket (no address here) and the headers sent. */
function request(headers: Record<string, string>): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  return req;
}

describe('the rate limit with auth on (credentialOrAddress)', () => {
  it('gives each credential its own allowance, and requests without one the address’s', async () => {
    const limiter = new RateLimiter({ requests: 2, windowSeconds: 60, key: credentialOrAddress });
    const alice = { authorization: 'Bearer token-of-alice' };
    const bob = { 'x-api-key': 'alk_key_of_bob' };
    const decisions = [];
    for (const headers of [alice, alice, alice, bob, bob, {}, {}, {}]) {
      decisions.push((await limiter.check(request(headers))).allowed);
    }
    // Alice's third request is over her 2; Bob's two are his own; the anonymous ones share one.
    expect(decisions).toEqual([true, true, false, true, true, true, true, false]);
  });

  it('never keeps a credential itself as a key', () => {
    const key = credentialOrAddress(request({ authorization: 'Bearer secret-token' }));
    expect(key).not.toContain('secret-token');
    expect(key).toMatch(/^credential:[A-Za-z0-9_-]{43}$/);
    expect(credentialOrAddress(request({}))).toBe('ip:unknown');
  });
});
